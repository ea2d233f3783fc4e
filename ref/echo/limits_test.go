package echo

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startLimited runs a server with the given limits on a free loopback
// port, stopped when the test ends.
func startLimited(t *testing.T, cfg ServerConfig) (*Server, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	cfg.Log = log
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, log
}

// echoOnce sends line on c and reads the echo back within timeout.
func echoOnce(t *testing.T, c net.Conn, line string, timeout time.Duration) {
	t.Helper()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("echo of %q: got %q, %v", line, got, err)
	}
}

// waitClosed reads from c until the server closes it, and returns when.
func waitClosed(t *testing.T, c net.Conn, timeout time.Duration) time.Time {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, c)
	if err != nil {
		t.Fatalf("the server did not close the connection within %v: %v", timeout, err)
	}
	return time.Now()
}

// TestIdleClientCutOff: a client connects and sends nothing. With an idle
// timeout of 300 ms the iterative server closes it (FIN: the client reads
// EOF) and serves the client waiting in the backlog, which without the
// limit would wait for ever.
func TestIdleClientCutOff(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv, log := startLimited(t, ServerConfig{IdleTimeout: idle})
	addr := srv.Addr().String()
	start := time.Now()
	idler, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idler.Close()
	time.Sleep(50 * time.Millisecond) // the idler is accepted first
	next, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	echoOnce(t, next, "served after the idler", 5*time.Second)
	served := time.Since(start)
	closed := waitClosed(t, idler, time.Second).Sub(start)
	if closed < idle || closed > idle+time.Second {
		t.Errorf("idle client closed after %v, want about %v", closed, idle)
	}
	if served < idle {
		t.Errorf("the second client was served after %v, before the idler was cut off (%v): not an iterative server?", served, idle)
	}
	if l := log.String(); !strings.Contains(l, "idle for 300ms") || !strings.Contains(l, "closed the connection") {
		t.Errorf("log %q does not explain the cut-off", l)
	}
}

// TestBusyClientSessionLimit: a client that keeps sending (never idle)
// is still closed after MaxSession, and the next client is served.
func TestBusyClientSessionLimit(t *testing.T) {
	const session = 500 * time.Millisecond
	srv, log := startLimited(t, ServerConfig{IdleTimeout: 10 * time.Second, MaxSession: session})
	addr := srv.Addr().String()
	start := time.Now()
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// One byte every 50 ms, its echo read back: busy, not idle.
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := busy.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	next, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	closed := waitClosed(t, busy, 5*time.Second).Sub(start)
	echoOnce(t, next, "served after the busy one", 5*time.Second)
	if closed < session || closed > session+time.Second {
		t.Errorf("busy client closed after %v, want about %v", closed, session)
	}
	if l := log.String(); !strings.Contains(l, "session limit of 500ms reached") {
		t.Errorf("log %q does not explain the cut-off", l)
	}
}

// TestNoLimits: negative values switch the limits off; the defaults are
// finite.
func TestNoLimits(t *testing.T) {
	srv, _ := startLimited(t, ServerConfig{IdleTimeout: -1, MaxSession: -1})
	if srv.cfg.IdleTimeout >= 0 || srv.cfg.MaxSession >= 0 {
		t.Errorf("negative limits became %v, %v", srv.cfg.IdleTimeout, srv.cfg.MaxSession)
	}
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(300 * time.Millisecond)
	echoOnce(t, c, "still here", 5*time.Second)
	d, _ := startLimited(t, ServerConfig{})
	if d.cfg.IdleTimeout != DefaultIdleTimeout || d.cfg.MaxSession != DefaultMaxSession {
		t.Errorf("defaults %v, %v", d.cfg.IdleTimeout, d.cfg.MaxSession)
	}
}
