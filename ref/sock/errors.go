package sock

import (
	"errors"
	"net"
	"os"
)

// Error is a failed socket call, worded as one line that names the call and
// the address it was about, so that a student can read it aloud:
//
//	connect 127.0.0.1:7000: connection refused
//	listen 127.0.0.1:7000: address already in use
//	read 127.0.0.1:51234: connection reset by peer
//	resolve nosuch.example: unknown host
//
// Err is the cause (usually a sys.Errno); Unwrap exposes it so callers can
// test errors.Is(err, sys.ECONNREFUSED) or errors.Is(err, net.ErrClosed).
type Error struct {
	Call string // "connect", "listen", "read", "resolve", …
	Addr string // the address, "127.0.0.1:7000"; empty when there is none
	Err  error  // the cause
	Note string // optional extra, shown in parentheses: "tried [::1]:7000, 127.0.0.1:7000"
}

func (e *Error) Error() string {
	s := e.Call
	if e.Addr != "" {
		s += " " + e.Addr
	}
	s += ": " + causeText(e.Err)
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// causeText words the cause without repeating what Error already says: a
// DNS error carries the host name itself, a closed socket gets a sentence.
func causeText(err error) string {
	var dns *net.DNSError
	switch {
	case err == nil:
		return "unknown error"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "unknown host"
		}
		return dns.Err
	case errors.Is(err, net.ErrClosed):
		return "socket closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	default:
		return err.Error()
	}
}
