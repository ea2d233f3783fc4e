package session

import (
	"bytes"
	"strconv"
	"strings"
)

// HTTPMessage is one HTTP/1.x request or response found in a direction's
// byte stream.
type HTTPMessage struct {
	Dir      int
	Offset   int    // where the message starts in the direction's stream
	Request  bool   // a request line ("GET / HTTP/1.1"); false for a status line
	Start    string // the request or status line
	Method   string // the request's method; for a response, the method it answers when known
	Status   int    // the response's status code
	Headers  []string
	HeadLen  int // bytes of start line and headers, up to and including the blank line
	BodyLen  int // body bytes present in the stream (after de-chunking: wire bytes)
	Chunked  bool
	Complete bool // the whole message is in the capture
}

// End is the offset just past the message.
func (m HTTPMessage) End() int { return m.Offset + m.HeadLen + m.BodyLen }

// httpMethods are the request methods recognised at the start of a message
// (RFC 9110 §9 plus the WebDAV ones students meet).
func isHTTPMethod(s string) bool {
	switch s {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK":
		return true
	}
	return false
}

// LooksLikeHTTP reports whether b starts with an HTTP/1.x request or status
// line, which is how the follow command decides to show messages.
func LooksLikeHTTP(b []byte) bool {
	line, _, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return false
	}
	_, ok = parseStartLine(string(line))
	return ok
}

// parseStartLine recognises "METHOD target HTTP/1.x" or "HTTP/1.x code …".
func parseStartLine(line string) (HTTPMessage, bool) {
	f := strings.SplitN(line, " ", 3)
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/1.") {
		code, err := strconv.Atoi(f[1])
		if err != nil || code < 100 || code > 999 {
			return HTTPMessage{}, false
		}
		return HTTPMessage{Start: line, Status: code}, true
	}
	if len(f) == 3 && isHTTPMethod(f[0]) && strings.HasPrefix(f[2], "HTTP/1.") {
		return HTTPMessage{Start: line, Request: true, Method: f[0]}, true
	}
	return HTTPMessage{}, false
}

// ParseHTTP splits one direction's byte stream into HTTP/1.x messages.
// methods are the request methods of the other direction, in order, so a
// response to HEAD is known to have no body; pass nil for requests. It
// stops at the first bytes that are not a message (returning what came
// before). When the bytes at a message boundary are not a start line (a
// gap lost a header), it skips to the next line that is one, so one lost
// segment does not hide the rest of a long session.
func ParseHTTP(dir int, b []byte, methods []string) []HTTPMessage {
	var out []HTTPMessage
	off := 0
	for off < len(b) {
		rest := b[off:]
		headEnd := bytes.Index(rest, []byte("\r\n\r\n"))
		if headEnd < 0 {
			break
		}
		lines := strings.Split(string(rest[:headEnd]), "\r\n")
		m, ok := parseStartLine(lines[0])
		if !ok {
			eol := bytes.IndexByte(rest, '\n')
			if eol < 0 {
				break
			}
			off += eol + 1 // resynchronise on the next line
			continue
		}
		m.Dir, m.Offset, m.Headers, m.HeadLen = dir, off, lines[1:], headEnd+4
		if !m.Request && len(methods) > 0 {
			if m.Status >= 200 { // 1xx responses precede the real one
				m.Method, methods = methods[0], methods[1:]
			}
		}
		body := rest[m.HeadLen:]
		length, chunked, known := bodyLength(m)
		switch {
		case chunked:
			m.Chunked = true
			n, done := chunkedLength(body)
			m.BodyLen, m.Complete = n, done
		case known:
			m.BodyLen = min(length, len(body))
			m.Complete = length <= len(body)
		default:
			// A response without a length runs to the end of the connection.
			m.BodyLen, m.Complete = len(body), true
		}
		out = append(out, m)
		off += m.HeadLen + m.BodyLen
		if !m.Complete {
			break
		}
	}
	return out
}

// bodyLength applies RFC 9112 §6.3: which messages have no body, whether it
// is chunked, and its Content-Length. known is false when the body runs to
// the end of the connection.
func bodyLength(m HTTPMessage) (n int, chunked, known bool) {
	if !m.Request && (m.Method == "HEAD" || m.Status < 200 || m.Status == 204 || m.Status == 304) {
		return 0, false, true
	}
	for _, h := range m.Headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "transfer-encoding":
			if strings.Contains(strings.ToLower(value), "chunked") {
				return 0, true, true
			}
		case "content-length":
			if v, err := strconv.Atoi(value); err == nil && v >= 0 {
				return v, false, true
			}
		}
	}
	if m.Request {
		return 0, false, true // a request without a length has no body
	}
	return 0, false, false
}

// chunkedLength walks a chunked body and returns its length on the wire and
// whether the last chunk (and trailer) is present.
func chunkedLength(b []byte) (int, bool) {
	off := 0
	for {
		eol := bytes.Index(b[off:], []byte("\r\n"))
		if eol < 0 {
			return len(b), false
		}
		sizeText, _, _ := strings.Cut(string(b[off:off+eol]), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 32)
		if err != nil || size < 0 {
			return len(b), false
		}
		off += eol + 2
		if size == 0 {
			// Trailer fields, then a blank line.
			end := bytes.Index(b[off:], []byte("\r\n"))
			for end > 0 {
				off += end + 2
				end = bytes.Index(b[off:], []byte("\r\n"))
			}
			if end < 0 {
				return len(b), false
			}
			return off + 2, true
		}
		if off+int(size)+2 > len(b) {
			return len(b), false
		}
		off += int(size) + 2
	}
}
