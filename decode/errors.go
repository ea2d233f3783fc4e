package decode

import (
	"errors"
	"fmt"
)

// Sentinel errors, to branch on with errors.Is.
var (
	// ErrTruncated: the frame ends before the header does. Usually the
	// snaplen cut the frame; the bytes that were captured are still valid.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: a header field holds a value no correct sender emits
	// (an IHL under 5, a TCP data offset under 5, a length that points
	// outside the packet).
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported: a link type this package does not decode.
	ErrUnsupported = errors.New("unsupported")
)

// Error says which layer failed and at which byte offset of the frame.
type Error struct {
	Layer  string // "ethernet", "ipv4", "ipv6", "tcp", …
	Offset int    // offset of the layer's first byte in the frame
	Detail string // what exactly was wrong, e.g. "IHL 3 < 5"
	Err    error  // one of the sentinels above
	// Own: Detail is a whole message in Wireshark's words ("Bogus IP
	// header length (12, must be at least 20)"), shown as it is.
	Own bool
}

func (e *Error) Error() string {
	if e.Own {
		return fmt.Sprintf("%s @%d: %s", e.Layer, e.Offset, e.Detail)
	}
	if e.Detail == "" {
		return fmt.Sprintf("%s @%d: %v", e.Layer, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s @%d: %v (%s)", e.Layer, e.Offset, e.Err, e.Detail)
}

// Unwrap lets errors.Is(err, ErrTruncated) see through Error.
func (e *Error) Unwrap() error { return e.Err }

func errAt(layer string, off int, err error, detail string) error {
	return &Error{Layer: layer, Offset: off, Detail: detail, Err: err}
}

// errOwn is errAt with a Detail in Wireshark's words (Error.Own).
func errOwn(layer string, off int, err error, detail string) error {
	return &Error{Layer: layer, Offset: off, Detail: detail, Err: err, Own: true}
}

// Message is what a reader is shown for err: Wireshark's words alone when
// the error carries them, else err.Error().
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Own {
		return e.Detail
	}
	return err.Error()
}
