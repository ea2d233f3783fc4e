package render

import (
	"bytes"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// AppendPayloadNote appends to a segment's note what its payload says:
// "; HTTP request: GET /index.html HTTP/1.1" or "; HTTP response: HTTP/1.1
// 200 OK" when it starts with an HTTP/1 start line, otherwise the bytes
// quoted as strace quotes a write's buffer (after the note's "13 bytes of
// data": ": \"hello, world\\n\""; elsewhere "; data \"…\""), cut after
// strsize bytes. captured is what the capture kept of the wire
// length n; nothing is appended for a segment without data.
func AppendPayloadNote(b, captured []byte, n, strsize int) []byte {
	if n <= 0 || len(captured) == 0 {
		return b
	}
	captured = captured[:min(len(captured), n)]
	if line, kind := httpStartLine(captured); kind != "" {
		b = append(b, "; HTTP "...)
		b = append(b, kind...)
		b = append(b, ": "...)
		return append(b, line...)
	}
	if bytes.HasSuffix(b, []byte(" bytes of data")) {
		b = append(b, ": "...) // "11 bytes of data: \"hello, TCP\n\""
	} else {
		b = append(b, "; data "...)
	}
	b = sock.AppendQuoted(b, captured, strsize)
	if len(captured) < n && len(captured) <= strsize {
		b = append(b, "..."...) // the capture cut the payload
	}
	return b
}

// httpStartLine recognises an HTTP/1 request line ("GET /x HTTP/1.1") or
// status line ("HTTP/1.1 200 OK") at the start of p, ended by CRLF within
// the first 200 bytes, and returns it with "request" or "response".
func httpStartLine(p []byte) ([]byte, string) {
	end := bytes.Index(p[:min(len(p), 200)], []byte("\r\n"))
	if end <= 0 {
		return nil, ""
	}
	line := p[:end]
	for _, c := range line {
		if c < ' ' || c >= 0x7f {
			return nil, ""
		}
	}
	if bytes.HasPrefix(line, []byte("HTTP/1.")) && len(line) >= 12 && line[8] == ' ' {
		return line, "response"
	}
	f := bytes.Fields(line)
	if len(f) == 3 && bytes.HasPrefix(f[2], []byte("HTTP/1.")) && isToken(f[0]) {
		return line, "request"
	}
	return nil, ""
}

// isToken: an HTTP method is upper-case letters ("GET", "HEAD", "POST").
func isToken(m []byte) bool {
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(m) > 0
}
