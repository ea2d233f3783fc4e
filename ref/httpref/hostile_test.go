package httpref

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHostileRequests: traversal in every spelling (including a symlink
// inside the root pointing out of it) and oversize request lines, header
// lines, header counts and bodies are all refused with one short response,
// never served and never buffered whole.
func TestHostileRequests(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t)})
	many := strings.Repeat("X-A: b\r\n", 101)
	tests := []struct{ name, req, status, body string }{
		{"dotdot", "GET /../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", "path leaves the document root"},
		{"encoded dotdot", "GET /%2E%2E/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", "path leaves the document root"},
		{"encoded slash", "GET /..%2fsecret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "", ""},
		{"deep dotdot", "GET /sub/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", "path leaves the document root"},
		{"symlink escape", "GET /escape.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "", ""},
		{"absolute-form", "GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", ""},
		{"request line 9 KiB", "GET /" + strings.Repeat("a", 9<<10) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", "longer than"},
		{"header line 9 KiB", "GET / HTTP/1.1\r\nConnection: close\r\nX-Big: " + strings.Repeat("b", 9<<10) + "\r\n\r\n", "400", "longer than"},
		{"101 headers", "GET / HTTP/1.1\r\nConnection: close\r\n" + many + "\r\n", "400", ""},
		{"body 1 GiB", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\nabc", "", "too large"},
	}
	for _, tt := range tests {
		got := rawExchange(t, srv, tt.req)
		if strings.Contains(got, "do not serve") || strings.Contains(got, "root:") {
			t.Errorf("%s: served something outside the root:\n%s", tt.name, got)
		}
		status := strings.SplitN(got, "\r\n", 2)[0]
		if !strings.HasPrefix(status, "HTTP/1.1 4") {
			t.Errorf("%s: %q, want a 4xx refusal", tt.name, status)
		}
		if tt.status != "" && !strings.HasPrefix(status, "HTTP/1.1 "+tt.status) || !strings.Contains(got, tt.body) {
			t.Errorf("%s: got\n%.300s\nwant status %s with %q", tt.name, got, tt.status, tt.body)
		}
	}
}

// TestSlowloris: a client that sends its request head one byte every 100
// ms (so no single read ever waits long enough for the idle timeout) is cut
// off once RequestTimeout has passed, and meanwhile other clients are
// served at once.
func TestSlowloris(t *testing.T) {
	log := &syncBuffer{}
	srv := serve(t, ServerConfig{Root: site(t), RequestTimeout: 600 * time.Millisecond, IdleTimeout: 2 * time.Second, Log: log})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		req := "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("z", 200)
		for i := 0; i < len(req); i++ {
			if _, err := c.Write([]byte{req[i]}); err != nil {
				cut <- time.Since(start)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		cut <- 0
	}()
	// Others are served while the slow client dawdles.
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		if got := rawExchange(t, srv, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.HasSuffix(got, "hello, students\n") {
			t.Fatalf("other client not served:\n%s", got)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("other client waited %v", d)
		}
	}
	// The server closes the slow connection: a read sees EOF/reset.
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = io.ReadAll(c)
	closedAfter := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slowloris connection still open after %v", closedAfter)
	}
	if closedAfter < 500*time.Millisecond || closedAfter > 2*time.Second {
		t.Errorf("slow client cut off after %v, want about 600ms", closedAfter)
	}
	// The server writes its log line after closing the connection: give
	// it a moment (the client saw the close first).
	for wait := time.Now(); !strings.Contains(log.String(), "cut off: request head not complete") && time.Since(wait) < 2*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "cut off: request head not complete") {
		t.Errorf("log does not say why:\n%s", log.String())
	}
	t.Logf("slowloris client cut off after %v (RequestTimeout 600ms); 3 other clients served meanwhile", closedAfter.Round(time.Millisecond))
}

// TestMaxClients: with MaxClients 2, two idle connections fill the server;
// a third gets 503 at once; when one leaves, a new client is served.
func TestMaxClients(t *testing.T) {
	srv := serve(t, ServerConfig{Root: site(t), MaxClients: 2, IdleTimeout: 5 * time.Second})
	var idle []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept both
	t0 := time.Now()
	got := rawExchange(t, srv, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	// The reason phrase is the status's own (it was "503 Unknown").
	if !strings.HasPrefix(got, "HTTP/1.1 503 Service Unavailable\r\n") || !strings.Contains(got, "503 Service Unavailable: too many clients") || time.Since(t0) > time.Second {
		t.Fatalf("third client: after %v got\n%s", time.Since(t0), got)
	}
	idle[0].Close()
	time.Sleep(100 * time.Millisecond)
	if got := rawExchange(t, srv, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); !strings.HasSuffix(got, "hello, students\n") {
		t.Fatalf("after one left, a new client was not served:\n%s", got)
	}
}
