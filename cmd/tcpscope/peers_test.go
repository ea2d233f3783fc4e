package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a bytes.Buffer safe for the server goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, out *syncBuf) {
	for i := 0; i < 100 && !strings.Contains(out.String(), "listening on"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEchoServerAndClient runs the two reference peers through the command
// line, over real loopback sockets.
func TestEchoServerAndClient(t *testing.T) {
	addr := freePort(t)
	var srvOut, srvErr syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"tcpscope", "server", "--addr", addr, "--max-conns", "1"}, nil, &srvOut, &srvErr)
	}()
	waitListening(t, &srvOut)
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "client", addr, "hello", "network byte order"}, nil, &out, &errb); code != 0 {
		t.Fatalf("client exit %d: %s", code, errb.String())
	}
	if out.String() != "hello\nnetwork byte order\n" {
		t.Errorf("client printed %q", out.String())
	}
	if code := <-done; code != 0 {
		t.Fatalf("server exit %d: %s", code, srvErr.String())
	}
	for _, w := range []string{"server socket(", "server bind(", "server listen(", "server accept(", "server read(", "server write("} {
		if !strings.Contains(srvErr.String(), w) {
			t.Errorf("server trace lacks %q:\n%s", w, srvErr.String())
		}
	}
	for _, w := range []string{`client getaddrinfo("127.0.0.1")`, "client socket(", "client connect(", "client write(", "client read(", "client close("} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("client trace lacks %q:\n%s", w, errb.String())
		}
	}
}

func TestHTTPServerAndClient(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hi</h1>\n"), 0o644)
	addr := freePort(t)
	var srvOut, srvErr syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"tcpscope", "server", "--http", "--addr", addr, "--root", dir, "--max-conns", "1", "-q"}, nil, &srvOut, &srvErr)
	}()
	waitListening(t, &srvOut)
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "client", "--http", "http://" + addr + "/"}, nil, &out, &errb); code != 0 {
		t.Fatalf("client exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "HTTP/1.1 200") || !strings.Contains(out.String(), "<h1>hi</h1>") {
		t.Errorf("client printed %q", out.String())
	}
	<-done
}

// TestPeerErrors: a busy port and a refused connection are one clear line.
func TestPeerErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "server", "-q", "--addr", l.Addr().String()}, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "address already in use") {
		t.Errorf("busy port: exit %d, %q", code, errb.String())
	}
	addr := freePort(t)
	errb.Reset()
	if code := run([]string{"tcpscope", "client", "-q", addr, "hi"}, nil, &out, &errb); code != 1 ||
		strings.TrimSpace(errb.String()) != "tcpscope: connect "+addr+": connection refused" {
		t.Errorf("refused: exit %d, %q", code, errb.String())
	}
}
