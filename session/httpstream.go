package session

import (
	"bytes"
	"strconv"
	"strings"
)

// HTTPStream finds the HTTP/1.x messages of one direction's byte stream as
// its bytes arrive, with the rules of ParseHTTP, but holding only a
// message's head at a time: a body is counted, not kept, so a stream of any
// length is parsed in bounded memory. A head longer than MaxHTTPHead ends
// the parsing of the direction, as bytes that are not HTTP do.
type HTTPStream struct {
	Dir int
	// Methods is the queue of request methods shared by the two
	// directions of a connection: requests add theirs, responses take
	// one (a response to HEAD has no body).
	Methods *[]string
	// Started, when set, is told where each message starts as soon as its
	// head is parsed (its end may be far away).
	Started func(offset int)
	// Done receives each message once its end is known (and, at Close,
	// the one in progress, marked incomplete).
	Done func(HTTPMessage)

	buf  []byte // bytes of the head being looked for, from offset off
	off  int    // stream offset of buf[0]
	cur  *HTTPMessage
	mode int
	left int // body bytes still to count (modeLength, modeChunkData)
	dead bool
}

// MaxHTTPHead bounds the start line and headers of a message.
const MaxHTTPHead = 1 << 20

const (
	modeHead      = iota // looking for a start line and its headers
	modeLength           // a body of known length
	modeChunkSize        // a chunk-size line
	modeChunkData        // chunk data and its CRLF
	modeTrailer          // trailer lines after the last chunk
	modeToEnd            // a body that runs to the end of the stream
)

// Write feeds bytes of the stream.
func (h *HTTPStream) Write(p []byte) {
	for len(p) > 0 && !h.dead {
		switch h.mode {
		case modeLength, modeChunkData:
			n := min(len(p), h.left)
			h.cur.BodyLen += n
			h.left -= n
			p = p[n:]
			if h.left == 0 {
				if h.mode == modeLength {
					h.finish(true)
				} else {
					h.mode = modeChunkSize
				}
			}
		case modeToEnd:
			h.cur.BodyLen += len(p)
			p = nil
		default:
			h.buf = append(h.buf, p...)
			p = nil
			h.scan()
		}
	}
}

// Zeros feeds n zero bytes: a gap in the stream (ParseHTTP sees zeros
// there too).
func (h *HTTPStream) Zeros(n int) {
	var z [4096]byte
	for n > 0 && !h.dead {
		k := min(n, len(z))
		h.Write(z[:k])
		n -= k
	}
}

// scan parses what buf holds in the head, chunk-size and trailer modes.
func (h *HTTPStream) scan() {
	for !h.dead && len(h.buf) > 0 {
		switch h.mode {
		case modeHead:
			if !h.head() {
				return
			}
		case modeChunkSize:
			eol := bytes.Index(h.buf, []byte("\r\n"))
			if eol < 0 {
				if len(h.buf) > MaxHTTPHead {
					h.toEnd()
				}
				return
			}
			sizeText, _, _ := strings.Cut(string(h.buf[:eol]), ";")
			size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 32)
			if err != nil || size < 0 {
				h.toEnd() // ParseHTTP: the rest of the stream is this body
				return
			}
			h.consume(eol + 2)
			if size == 0 {
				h.mode = modeTrailer
			} else {
				h.mode, h.left = modeChunkData, int(size)+2
				rest := h.buf
				h.buf = nil
				h.Write(rest)
				return
			}
		case modeTrailer:
			eol := bytes.Index(h.buf, []byte("\r\n"))
			if eol < 0 {
				if len(h.buf) > MaxHTTPHead {
					h.toEnd()
				}
				return
			}
			h.consume(eol + 2)
			if eol == 0 {
				h.finish(true)
			}
		default:
			rest := h.buf
			h.buf = nil
			h.Write(rest)
			return
		}
	}
}

// consume moves n bytes of buf into the current body.
func (h *HTTPStream) consume(n int) {
	h.cur.BodyLen += n
	h.buf = h.buf[n:]
}

// toEnd makes the rest of the stream the current body, incomplete.
func (h *HTTPStream) toEnd() {
	h.cur.BodyLen += len(h.buf)
	h.buf = nil
	h.mode = modeToEnd
	h.cur.Complete = false
}

// head looks for a message head at the start of buf; it reports whether
// it made progress.
func (h *HTTPStream) head() bool {
	headEnd := bytes.Index(h.buf, []byte("\r\n\r\n"))
	if headEnd < 0 {
		// The first line is final once a CRLF ends it: a line that is
		// not a start line is skipped now (ParseHTTP skips it once a
		// head ends somewhere after it, and parses nothing otherwise).
		if crlf := bytes.Index(h.buf, []byte("\r\n")); crlf >= 0 {
			if _, ok := parseStartLine(string(h.buf[:crlf])); !ok {
				h.skipLine()
				return true
			}
		}
		if len(h.buf) > MaxHTTPHead {
			if bytes.IndexByte(h.buf, '\n') < 0 {
				h.off += len(h.buf) // one endless line: not a start line
				h.buf = h.buf[:0]
				return false
			}
			h.dead = true
		}
		return false
	}
	lines := strings.Split(string(h.buf[:headEnd]), "\r\n")
	m, ok := parseStartLine(lines[0])
	if !ok {
		h.skipLine()
		return true
	}
	m.Dir, m.Offset, m.Headers, m.HeadLen = h.Dir, h.off, lines[1:], headEnd+4
	if h.Methods != nil {
		if h.Dir == 0 {
			*h.Methods = append(*h.Methods, m.Method)
		} else if !m.Request && len(*h.Methods) > 0 && m.Status >= 200 {
			m.Method = (*h.Methods)[0]
			*h.Methods = (*h.Methods)[1:]
		}
	}
	h.buf = h.buf[headEnd+4:]
	h.off += headEnd + 4
	h.cur = &m
	if h.Started != nil {
		h.Started(m.Offset)
	}
	length, chunked, known := bodyLength(m)
	switch {
	case chunked:
		m.Chunked = true
		h.mode = modeChunkSize
	case known && length == 0:
		h.finish(true)
	case known:
		h.mode, h.left = modeLength, length
	default:
		m.Complete = true // runs to the end of the connection
		h.mode = modeToEnd
	}
	if h.mode != modeHead && len(h.buf) > 0 {
		rest := h.buf
		h.buf = nil
		h.Write(rest)
	}
	return true
}

// skipLine drops buf's first line (resynchronising on the next).
func (h *HTTPStream) skipLine() {
	eol := bytes.IndexByte(h.buf, '\n')
	h.off += eol + 1
	h.buf = h.buf[eol+1:]
}

// finish ends the current message.
func (h *HTTPStream) finish(complete bool) {
	m := *h.cur
	m.Complete = complete
	h.off += m.BodyLen
	h.cur = nil
	h.mode = modeHead
	if h.Done != nil {
		h.Done(m)
	}
	if !complete {
		h.dead = true
	}
}

// Close ends the stream: a message in progress is handed over, complete
// only when its body runs to the end of the stream.
func (h *HTTPStream) Close() {
	if h.cur == nil {
		return
	}
	if h.mode == modeToEnd {
		h.finish(h.cur.Complete)
		return
	}
	h.cur.BodyLen += len(h.buf)
	h.buf = nil
	h.finish(false)
}

// Next is the stream offset at which the next message to be handed over
// starts, or at or after which it will start.
func (h *HTTPStream) Next() int {
	if h.cur != nil {
		return h.cur.Offset
	}
	return h.off
}

// InMessage reports whether a message's head has been parsed and its end
// is still to come.
func (h *HTTPStream) InMessage() bool { return h.cur != nil }

// Scanned is the stream offset up to which bytes have been looked at and
// are no longer held (only a head being looked for is held).
func (h *HTTPStream) Scanned() int {
	if h.cur != nil {
		return h.cur.Offset + h.cur.HeadLen + h.cur.BodyLen
	}
	return h.off
}
