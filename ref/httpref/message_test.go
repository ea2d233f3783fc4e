package httpref

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func reader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func TestReadRequest(t *testing.T) {
	req, err := ReadRequest(reader("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Spaces:   padded \t\r\nconnection: Close\r\n\r\nNEXT"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.Target != "/a/b?x=1" || req.Proto != "HTTP/1.1" {
		t.Errorf("request line parsed as %q %q %q", req.Method, req.Target, req.Proto)
	}
	if req.Header.Get("HOST") != "example.com" || req.Header.Get("x-spaces") != "padded" {
		t.Errorf("header %v", req.Header)
	}
	if wantsKeepAlive(req) {
		t.Error("Connection: Close not honoured")
	}
	if req, err := ReadRequest(reader("HEAD / HTTP/1.0\nHost: x\n\n")); err != nil || wantsKeepAlive(req) {
		t.Errorf("bare-LF HTTP/1.0 request: %v, %v", req, err)
	}
	if req, err := ReadRequest(reader("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")); err != nil || !wantsKeepAlive(req) {
		t.Errorf("HTTP/1.0 keep-alive: %v, %v", req, err)
	}

	if _, err := ReadRequest(reader("")); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	if _, err := ReadRequest(reader("GET / HTTP/1.1\r\nHost: x\r\n")); err != io.ErrUnexpectedEOF {
		t.Errorf("cut-off header: %v, want io.ErrUnexpectedEOF", err)
	}
	malformed := []string{
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / http/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 101) + "\r\n",
		"GET /" + strings.Repeat("a", maxLine) + " HTTP/1.1\r\n\r\n",
	}
	for _, m := range malformed {
		_, err := ReadRequest(reader(m))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%.40q: %v, want a ParseError", m, err)
		}
	}
}

func TestReadResponseFraming(t *testing.T) {
	tests := []struct {
		name, in, method string
		framing, body    string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", "GET", "content-length", "hello"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n", "GET", "chunked", "hello, world"},
		{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "GET", "chunked", "abc"},
		{"until close", "HTTP/1.0 200 OK\r\n\r\nall of it\nuntil the end", "GET", "until-close", "all of it\nuntil the end"},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "HEAD", "none", ""},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", "GET", "none", ""},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", "none", ""},
		{"100 continue skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", "content-length", "ok"},
		{"no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET", "content-length", ""},
		{"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", "GET", "content-length", "ok"},
	}
	for _, tt := range tests {
		resp, err := ReadResponse(reader(tt.in), tt.method, 1<<20)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if resp.Framing != tt.framing || string(resp.Body) != tt.body {
			t.Errorf("%s: framing %s body %q; want %s %q", tt.name, resp.Framing, resp.Body, tt.framing, tt.body)
		}
	}
	resp, _ := ReadResponse(reader("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), "GET", 10)
	if resp == nil || resp.StatusCode != 404 || resp.StatusLine() != "HTTP/1.1 404 Not Found" {
		t.Errorf("status line: %+v", resp)
	}

	broken := []string{
		"",
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100),
	}
	for _, b := range broken {
		if _, err := ReadResponse(reader(b), "GET", 50); err == nil {
			t.Errorf("%.50q: no error", b)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct{ target, name, problem string }{
		{"/", ".", ""},
		{"/index.html", "index.html", ""},
		{"/a/./b//c.txt?q=1", "a/b/c.txt", ""},
		{"/with%20space.txt", "with space.txt", ""},
		{"/../etc/passwd", "", "path leaves the document root"},
		{"/a/../../b", "", "path leaves the document root"},
		{"/%2e%2e/secret", "", "path leaves the document root"},
		{"/a/%2E%2E/b", "", "path leaves the document root"},
		{"/bad%zzescape", "", "bad percent-encoding in path"},
		{"/nul%00byte", "", "NUL byte in path"},
		{"http://example.com/", "", "the request target must start with /"},
		{"*", "", "the request target must start with /"},
	}
	for _, tt := range tests {
		name, problem := cleanPath(tt.target)
		if name != tt.name || problem != tt.problem {
			t.Errorf("cleanPath(%q) = %q, %q; want %q, %q", tt.target, name, problem, tt.name, tt.problem)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"index.html": "text/html; charset=utf-8", "A.HTM": "text/html; charset=utf-8",
		"notes.txt": "text/plain; charset=utf-8", "x.json": "application/json",
		"p.png": "image/png", "capture.pcap": "application/vnd.tcpdump.pcap", "blob": "application/octet-stream",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseURL(t *testing.T) {
	tg, err := parseURL("http://[::1]:8080/a%20b?x=1")
	if err != nil || tg.host != "::1" || tg.port != 8080 || tg.hostHdr != "[::1]:8080" || tg.path != "/a%20b?x=1" {
		t.Errorf("parseURL: %+v, %v", tg, err)
	}
	tg, err = parseURL("http://example.com")
	if err != nil || tg.port != 80 || tg.path != "/" {
		t.Errorf("default port and path: %+v, %v", tg, err)
	}
	for raw, want := range map[string]string{
		"https://example.com/":  "https is not supported",
		"ftp://example.com/":    "unsupported scheme",
		"example.com/index":     "want http://host[:port]/path",
		"http:///nohost":        "no host",
		"http://h:99999/":       "bad port",
		"http://u:p@localhost/": "user information",
	} {
		if _, err := parseURL(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseURL(%q): %v, want it to mention %q", raw, err, want)
		}
	}
}
