package httpref

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
	"golang.org/x/sys/unix"
)

// site makes a document root with a few files, and a secret beside it.
func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "www")
	files := map[string]string{
		"www/index.html":        "<h1>tcpscope</h1>\n",
		"www/hello.txt":         "hello, students\n",
		"www/sub/data.json":     `{"ok":true}`,
		"www/sub/index.html":    "sub index\n",
		"www/with space.txt":    "spaced\n",
		"www/empty/placeholder": "",
		"secret.txt":            "do not serve\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink inside the root that points outside it must not be followed.
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "escape.txt")); err != nil {
		t.Fatal(err)
	}
	return root
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func serve(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	srv, err := Listen(cfg)
	if err != nil {
		if cfg.Addr.Addr().Is6() && (errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.EAFNOSUPPORT)) {
			t.Skipf("IPv6 loopback ::1 is not available here: %v", err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Error("server did not stop within 3s of cancel")
		}
	})
	return srv
}

func fetch(t *testing.T, url, method string) (*Response, string) {
	t.Helper()
	var out bytes.Buffer
	resp, err := Fetch(context.Background(), ClientConfig{URL: url, Method: method, Out: &out, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Fetch %s: %v", url, err)
	}
	return resp, out.String()
}

func TestServeFiles(t *testing.T) {
	root := site(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			var log syncBuffer
			srv := serve(t, ServerConfig{Addr: netip.MustParseAddrPort(addr), Root: root, Log: &log})
			base := srv.URL()
			tests := []struct {
				path, method string
				status       int
				ctype, body  string
			}{
				{"", "GET", 200, "text/html; charset=utf-8", "<h1>tcpscope</h1>\n"},
				{"index.html", "GET", 200, "text/html; charset=utf-8", "<h1>tcpscope</h1>\n"},
				{"hello.txt", "GET", 200, "text/plain; charset=utf-8", "hello, students\n"},
				{"hello.txt", "HEAD", 200, "text/plain; charset=utf-8", ""},
				{"sub/data.json", "GET", 200, "application/json", `{"ok":true}`},
				{"sub/", "GET", 200, "text/html; charset=utf-8", "sub index\n"},
				{"sub", "GET", 200, "text/html; charset=utf-8", "sub index\n"},
				{"with%20space.txt", "GET", 200, "text/plain; charset=utf-8", "spaced\n"},
				{"missing.txt", "GET", 404, "text/plain; charset=utf-8", "404 Not Found: /missing.txt\n"},
				{"missing.txt", "HEAD", 404, "text/plain; charset=utf-8", ""},
				{"empty/", "GET", 404, "text/plain; charset=utf-8", "404 Not Found: /empty/\n"},
				{"escape.txt", "GET", 404, "text/plain; charset=utf-8", "404 Not Found: /escape.txt\n"},
			}
			for _, tt := range tests {
				resp, out := fetch(t, base+tt.path, tt.method)
				if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.ctype || string(resp.Body) != tt.body {
					t.Errorf("%s /%s: %d %q %q; want %d %q %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Body, tt.status, tt.ctype, tt.body)
				}
				if tt.method == "HEAD" && resp.StatusCode == 200 && resp.Header.Get("Content-Length") != "16" {
					t.Errorf("HEAD Content-Length %q, want 16", resp.Header.Get("Content-Length"))
				}
				if strings.Contains(out, "do not serve") {
					t.Fatalf("served the secret outside the root:\n%s", out)
				}
			}
			if !strings.Contains(log.String(), `"GET /hello.txt HTTP/1.1" 200`) {
				t.Errorf("access log:\n%s", log.String())
			}
		})
	}
}

// rawExchange sends bytes on a fresh connection and returns everything
// the server sends back until it closes.
func rawExchange(t *testing.T, srv *Server, request string) string {
	t.Helper()
	c, err := sock.Caller{}.DialTCP(context.Background(), srv.Addr().Addr().String(), srv.Addr().Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(3 * time.Second)
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading response to %q: %v", request, err)
	}
	return string(got)
}

func TestServerRefusals(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t)})
	tests := []struct{ req, status, body string }{
		{"GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request", "path leaves the document root"},
		{"GET /%2e%2e/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request", "path leaves the document root"},
		{"GET /sub/../../secret.txt HTTP/1.0\r\n\r\n", "HTTP/1.1 400 Bad Request", "path leaves the document root"},
		{"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 405 Method Not Allowed", "only does GET and HEAD"},
		{"GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request", "not METHOD TARGET VERSION"},
		{"GET / HTTP/1.1\r\nBad Header\r\n\r\n", "HTTP/1.1 400 Bad Request", "bad header line"},
	}
	for _, tt := range tests {
		got := rawExchange(t, srv, tt.req)
		if !strings.HasPrefix(got, tt.status+"\r\n") || !strings.Contains(got, tt.body) || strings.Contains(got, "do not serve") {
			t.Errorf("%q got:\n%s", tt.req, got)
		}
		if !strings.Contains(got, "Connection: close\r\n") {
			t.Errorf("%q: error response does not close the connection:\n%s", tt.req, got)
		}
	}
	if got := rawExchange(t, srv, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.Contains(got, "Allow: GET, HEAD\r\n") {
		t.Errorf("405 without Allow:\n%s", got)
	}
}

// TestKeepAlive: two pipelined HTTP/1.1 requests on one connection get two
// responses; the second asks to close, and the server does.
func TestKeepAlive(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t)})
	got := rawExchange(t, srv, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /sub/data.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(strings.NewReader(got))
	r1, err := ReadResponse(br, "GET", 1<<20)
	if err != nil || string(r1.Body) != "hello, students\n" || r1.Header.Get("Connection") != "" {
		t.Fatalf("first response: %+v, %v", r1, err)
	}
	r2, err := ReadResponse(br, "GET", 1<<20)
	if err != nil || string(r2.Body) != `{"ok":true}` || r2.Header.Get("Connection") != "close" {
		t.Fatalf("second response: %+v, %v", r2, err)
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("bytes after the second response: %q", rest)
	}
	// HTTP/1.0 closes by default after one response, and keeps the
	// connection when asked, saying so.
	got = rawExchange(t, srv, "GET /hello.txt HTTP/1.0\r\n\r\nGET /hello.txt HTTP/1.0\r\n\r\n")
	if strings.Count(got, "HTTP/1.1 200 OK") != 1 || !strings.Contains(got, "Connection: close") {
		t.Errorf("HTTP/1.0 default:\n%s", got)
	}
	got = rawExchange(t, srv, "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello.txt HTTP/1.0\r\n\r\n")
	if strings.Count(got, "HTTP/1.1 200 OK") != 2 || !strings.Contains(got, "Connection: keep-alive") {
		t.Errorf("HTTP/1.0 keep-alive:\n%s", got)
	}
}

// TestIdleTimeout: a kept-alive connection with no next request is closed
// by the server after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t), IdleTimeout: 200 * time.Millisecond})
	start := time.Now()
	got := rawExchange(t, srv, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasSuffix(got, "hello, students\n") {
		t.Errorf("response:\n%s", got)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("server closed the idle connection after %v, want about 200ms", d)
	}
}

// TestGoClient: Go's own HTTP client accepts the reference server's
// responses, with keep-alive.
func TestGoClient(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t)})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for range 3 {
		resp, err := client.Get(srv.URL() + "hello.txt")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != "hello, students\n" || resp.ContentLength != 16 {
			t.Fatalf("net/http got %d %q (length %d), %v", resp.StatusCode, body, resp.ContentLength, err)
		}
	}
}

func TestClientOutputAndTrace(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	trace := func(e sock.Event) {
		mu.Lock()
		calls = append(calls, e.Who+" "+e.Call)
		mu.Unlock()
	}
	srv, err := Listen(ServerConfig{Root: site(t), Trace: trace, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	var out bytes.Buffer
	resp, err := Fetch(context.Background(), ClientConfig{URL: srv.URL() + "hello.txt", Out: &out, Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	// With MaxConns 1, Serve returns once that connection is done, so the
	// server's trace is complete.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if lines[0] != "HTTP/1.1 200 OK" {
		t.Errorf("first line %q", lines[0])
	}
	blank := -1
	for i, l := range lines {
		if l == "" {
			blank = i
			break
		}
	}
	if blank < 0 || !strings.Contains(strings.Join(lines[1:blank], "\n"), "Content-Length: 16") {
		t.Fatalf("no header block:\n%s", out.String())
	}
	if body := strings.Join(lines[blank+1:], "\n"); body != "hello, students\n" {
		t.Errorf("body %q", body)
	}
	if resp.Framing != "content-length" {
		t.Errorf("framing %s", resp.Framing)
	}
	mu.Lock()
	joined := strings.Join(calls, ",")
	mu.Unlock()
	for _, want := range []string{"client getaddrinfo", "client socket", "client connect", "client write", "client read", "client close", "server accept", "server read", "server write", "server close"} {
		if !strings.Contains(joined, want) {
			t.Errorf("trace lacks %q: %s", want, joined)
		}
	}
}

// TestFetchFromHTTPTest: the client against Go's own server, with a body of
// known length and a chunked one.
func TestFetchFromHTTPTest(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "11")
		w.Header().Set("X-Test", "fixed")
		io.WriteString(w, "fixed body\n")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "chunked")
		for i := range 5 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/head", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	resp, out := fetch(t, ts.URL+"/fixed", "GET")
	if resp.StatusCode != 200 || resp.Framing != "content-length" || string(resp.Body) != "fixed body\n" || !strings.Contains(out, "X-Test: fixed\n") {
		t.Errorf("fixed: %+v\n%s", resp, out)
	}
	resp, out = fetch(t, ts.URL+"/chunked", "GET")
	want := "part 0\npart 1\npart 2\npart 3\npart 4\n"
	if resp.Framing != "chunked" || string(resp.Body) != want || !strings.Contains(out, "Transfer-Encoding: chunked\n") {
		t.Errorf("chunked: framing %s body %q\n%s", resp.Framing, resp.Body, out)
	}
	resp, _ = fetch(t, ts.URL+"/head", "HEAD")
	if resp.Framing != "none" || len(resp.Body) != 0 {
		t.Errorf("HEAD: %+v", resp)
	}
	resp, _ = fetch(t, ts.URL+"/nothing-here", "GET")
	if resp.StatusCode != 404 {
		t.Errorf("missing page: %d", resp.StatusCode)
	}
}

// TestFetchUntilClose: an HTTP/1.0-style server that sends no length and
// closes the connection to end the body.
func TestFetchUntilClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length,\n")
		time.Sleep(20 * time.Millisecond)
		io.WriteString(c, "just close.\n")
	}()
	resp, _ := fetch(t, "http://"+ln.Addr().String()+"/", "GET")
	if resp.Framing != "until-close" || string(resp.Body) != "no length,\njust close.\n" {
		t.Errorf("framing %s body %q", resp.Framing, resp.Body)
	}
}

// TestFetchFromPython: the client against Python's http.server, a real
// server written by other people.
func TestFetchFromPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: skipping the test against python3 -m http.server")
	}
	root := site(t)
	// Find a free port: bind, note it, close; python binds it next.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start python3 -m http.server: %v", err)
	}
	defer cmd.Wait()
	defer cancel()
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("python3 http.server did not start listening on port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, out := fetch(t, base+"hello.txt", "GET")
	if resp.StatusCode != 200 || string(resp.Body) != "hello, students\n" || !strings.Contains(out, "Server: SimpleHTTP") {
		t.Errorf("python GET: %d %q\n%s", resp.StatusCode, resp.Body, out)
	}
	resp, _ = fetch(t, base+"missing", "GET")
	if resp.StatusCode != 404 {
		t.Errorf("python missing: %d", resp.StatusCode)
	}
	resp, _ = fetch(t, base+"hello.txt", "HEAD")
	if resp.StatusCode != 200 || resp.Framing != "none" {
		t.Errorf("python HEAD: %+v", resp)
	}
}

func TestClientErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	_, err = Fetch(context.Background(), ClientConfig{URL: "http://" + free + "/"})
	if want := "connect " + free + ": connection refused"; err == nil || err.Error() != want {
		t.Errorf("refused: %v, want %q", err, want)
	}
	_, err = Fetch(context.Background(), ClientConfig{URL: "https://127.0.0.1/"})
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Errorf("https: %v", err)
	}
	_, err = Fetch(context.Background(), ClientConfig{URL: "http://127.0.0.1/", Method: "POST"})
	if err == nil || !strings.Contains(err.Error(), "only GET and HEAD") {
		t.Errorf("POST: %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t)})
	if _, err := Listen(ServerConfig{Root: site(t), Addr: srv.Addr()}); err == nil || err.Error() != fmt.Sprintf("listen %v: address already in use", srv.Addr()) {
		t.Errorf("busy port: %v", err)
	}
	if _, err := Listen(ServerConfig{Root: filepath.Join(t.TempDir(), "nope")}); err == nil || !strings.Contains(err.Error(), "not a readable directory") {
		t.Errorf("missing root: %v", err)
	}
}
