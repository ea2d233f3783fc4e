package httpref

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzReadRequest: the request parser must never panic, and what it accepts
// must satisfy the grammar it claims to check.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /a?b HTTP/1.0\nConnection: keep-alive\n\n",
		"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"GET /../../etc/passwd HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if !isToken(req.Method) || req.Target == "" || !validProto(req.Proto) {
			t.Fatalf("accepted a bad request line: %q %q %q", req.Method, req.Target, req.Proto)
		}
		for _, h := range req.Header {
			if !isToken(h.Name) || strings.ContainsAny(h.Value, "\r\n") {
				t.Fatalf("accepted a bad header %q: %q", h.Name, h.Value)
			}
		}
		// Whatever path it carries, cleaning it never yields a name that
		// climbs out of the root.
		if name, problem := cleanPath(req.Target); problem == "" {
			if name == ".." || strings.HasPrefix(name, "../") || strings.HasPrefix(name, "/") {
				t.Fatalf("cleanPath(%q) = %q", req.Target, name)
			}
		}
	})
}

// FuzzReadResponse: the response parser must never panic nor return more
// body than allowed, and a Content-Length body must have that length.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: x\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		const limit = 1 << 10
		resp, err := ReadResponse(bufio.NewReader(bytes.NewReader(data)), method, limit)
		if resp != nil && len(resp.Body) > limit {
			t.Fatalf("body of %d bytes exceeds the limit %d", len(resp.Body), limit)
		}
		if err != nil {
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 999 || !validProto(resp.Proto) {
			t.Fatalf("accepted a bad status line %q", resp.StatusLine())
		}
		if resp.Framing == "content-length" {
			if n, _ := contentLength(resp.Header); int64(len(resp.Body)) != n {
				t.Fatalf("Content-Length %d but body of %d bytes", n, len(resp.Body))
			}
		}
		if head && len(resp.Body) != 0 {
			t.Fatal("a response to HEAD got a body")
		}
	})
}
