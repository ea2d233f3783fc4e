package sock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recorder collects events from several goroutines.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) trace(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) lines() string {
	var b strings.Builder
	for _, e := range r.all() {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

var loop4 = netip.MustParseAddrPort("127.0.0.1:0")

// listen opens a listener on a kernel-chosen port, closed at test end.
func listen(t *testing.T, c Caller, addr netip.AddrPort) (*Socket, netip.AddrPort) {
	t.Helper()
	ln, local, err := c.ListenTCP(addr, ListenConfig{ReuseAddr: true})
	if err != nil {
		if addr.Addr().Is6() && (errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.EAFNOSUPPORT)) {
			t.Skipf("IPv6 loopback ::1 is not available here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln, local
}

func TestEventString(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Who: "client", Call: "socket", FD: -1, Args: "AF_INET, SOCK_STREAM", Result: "5"}, "client socket(AF_INET, SOCK_STREAM) = 5"},
		{Event{Who: "client", Call: "connect", FD: 5, Args: "127.0.0.1:7000", Result: "0"}, "client connect(5, 127.0.0.1:7000) = 0"},
		{Event{Who: "server", Call: "accept", FD: 3, Result: "6 from 127.0.0.1:51234"}, "server accept(3) = 6 from 127.0.0.1:51234"},
		{Event{Who: "client", Call: "write", FD: 5, Args: "12 bytes", Result: "12"}, "client write(5, 12 bytes) = 12"},
		{Event{Who: "server", Call: "read", FD: 6, Result: "12"}, "server read(6) = 12"},
		{Event{Who: "server", Call: "close", FD: 6, Result: "0"}, "server close(6) = 0"},
		{Event{Who: "client", Call: "connect", FD: 5, Args: "127.0.0.1:7000", Err: unix.ECONNREFUSED}, "client connect(5, 127.0.0.1:7000) = -1 ECONNREFUSED (connection refused)"},
		{Event{Who: "server", Call: "accept", FD: 3, Err: net.ErrClosed}, "server accept(3) = -1 (interrupted: the socket was closed)"},
		{Event{Who: "client", Call: "read", FD: 5, Err: os.ErrDeadlineExceeded}, "client read(5) = -1 (timed out)"},
		{Event{Call: "getaddrinfo", FD: -1, Args: `"nosuch.invalid"`, Err: &net.DNSError{IsNotFound: true}}, `getaddrinfo("nosuch.invalid") = EAI_NONAME (unknown host)`},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	e := Event{Call: "bind", FD: 3, Args: "127.0.0.1:7000", Result: "0", Took: 5 * time.Millisecond, Detail: []string{"a", "b"}}
	if got, want := e.Format(true), "bind(3, 127.0.0.1:7000) = 0   [blocked 5ms]\n        a\n        b"; got != want {
		t.Errorf("verbose:\n got %q\nwant %q", got, want)
	}
	if got := e.Format(false); got != "bind(3, 127.0.0.1:7000) = 0" {
		t.Errorf("plain: %q", got)
	}
}

// TestTraceSequence runs a whole exchange on raw sockets and checks that
// the trace tells it right: calls, descriptors, addresses and byte counts.
func TestTraceSequence(t *testing.T) {
	for _, addr := range []netip.AddrPort{loop4, netip.MustParseAddrPort("[::1]:0")} {
		t.Run(addr.Addr().String(), func(t *testing.T) {
			var rec recorder
			srv := Caller{Who: "server", Trace: rec.trace}
			cli := Caller{Who: "client", Trace: rec.trace}
			ln, local := listen(t, srv, addr)
			if local.Port() == 0 || local.Addr() != addr.Addr() {
				t.Fatalf("getsockname gave %v", local)
			}

			c, err := cli.DialTCP(context.Background(), local.Addr().String(), local.Port())
			if err != nil {
				t.Fatal(err)
			}
			conn, peer, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			cname, err := c.Getsockname()
			if err != nil {
				t.Fatal(err)
			}
			if peer != cname {
				t.Errorf("accept says peer %v, client getsockname says %v", peer, cname)
			}
			if p, err := conn.Getpeername(); err != nil || p != cname {
				t.Errorf("getpeername = %v, %v; want %v", p, err, cname)
			}
			if _, err := c.Write([]byte("hello, world")); err != nil {
				t.Fatal(err)
			}
			if err := c.Shutdown(ShutWR); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(conn)
			if err != nil || string(got) != "hello, world" {
				t.Fatalf("server read %q, %v", got, err)
			}
			_ = conn.Close()
			_ = c.Close()
			_ = ln.Close()

			fam := "AF_INET"
			if addr.Addr().Is6() {
				fam = "AF_INET6"
			}
			lfd, cfd, afd := ln.FD(), c.FD(), conn.FD()
			want := []string{
				fmt.Sprintf("server socket(%s, SOCK_STREAM) = %d", fam, lfd),
				fmt.Sprintf("server setsockopt(%d, SOL_SOCKET, SO_REUSEADDR, 1) = 0", lfd),
				fmt.Sprintf("server bind(%d, %v) = 0", lfd, addr),
				fmt.Sprintf("server listen(%d, 128) = 0", lfd),
				fmt.Sprintf("server getsockname(%d) = %v", lfd, local),
				fmt.Sprintf(`client getaddrinfo(%q) = %v`, local.Addr().String(), local.Addr()),
				fmt.Sprintf("client socket(%s, SOCK_STREAM) = %d", fam, cfd),
				fmt.Sprintf("client connect(%d, %v) = 0", cfd, local),
				fmt.Sprintf("server accept(%d) = %d from %v", lfd, afd, cname),
				fmt.Sprintf("client getsockname(%d) = %v", cfd, cname),
				fmt.Sprintf("server getpeername(%d) = %v", afd, cname),
				fmt.Sprintf("client write(%d, 12 bytes) = 12", cfd),
				fmt.Sprintf("client shutdown(%d, SHUT_WR) = 0", cfd),
			}
			// The server's reads may come as one or several; then EOF.
			lines := strings.Split(strings.TrimSpace(rec.lines()), "\n")
			if len(lines) < len(want) {
				t.Fatalf("trace too short:\n%s", rec.lines())
			}
			for i, w := range want {
				if lines[i] != w {
					t.Fatalf("trace line %d:\n got %s\nwant %s\nwhole trace:\n%s", i, lines[i], w, rec.lines())
				}
			}
			rest := lines[len(want):]
			n := 0
			i := 0
			for ; i < len(rest) && strings.HasPrefix(rest[i], fmt.Sprintf("server read(%d) = ", afd)) && !strings.HasSuffix(rest[i], "(EOF)"); i++ {
				var k int
				fmt.Sscanf(strings.TrimPrefix(rest[i], fmt.Sprintf("server read(%d) = ", afd)), "%d", &k)
				n += k
			}
			if n != 12 {
				t.Errorf("server reads add up to %d bytes, want 12:\n%s", n, rec.lines())
			}
			tail := []string{
				fmt.Sprintf("server read(%d) = 0 (EOF)", afd),
				fmt.Sprintf("server close(%d) = 0", afd),
				fmt.Sprintf("client close(%d) = 0", cfd),
				fmt.Sprintf("server close(%d) = 0", lfd),
			}
			if strings.Join(rest[i:], "\n") != strings.Join(tail, "\n") {
				t.Errorf("trace ends\n%s\nwant\n%s", strings.Join(rest[i:], "\n"), strings.Join(tail, "\n"))
			}
			for _, e := range rec.all() {
				if e.Call == "connect" && e.Addr != local {
					t.Errorf("connect event Addr = %v, want %v", e.Addr, local)
				}
				if e.Call == "write" && e.N != 12 {
					t.Errorf("write event N = %d", e.N)
				}
				if (e.Call == "bind" || e.Call == "connect") && len(e.Detail) != 4 {
					t.Errorf("%s event has no byte-order detail: %q", e.Call, e.Detail)
				}
			}
		})
	}
}

func TestCloseInterruptsAccept(t *testing.T) {
	var rec recorder
	ln, _ := listen(t, Caller{Who: "server", Trace: rec.trace}, loop4)
	done := make(chan error, 1)
	go func() {
		_, _, err := ln.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("accept after close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("accept still blocked 2s after Close")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
	if !strings.Contains(rec.lines(), "accept("+fmt.Sprint(ln.FD())+") = -1 (interrupted") {
		t.Errorf("trace does not show the interrupted accept:\n%s", rec.lines())
	}
}

func TestBusyPort(t *testing.T) {
	_, local := listen(t, Caller{}, loop4)
	_, _, err := Caller{}.ListenTCP(local, ListenConfig{ReuseAddr: true})
	want := fmt.Sprintf("listen %v: address already in use", local)
	if err == nil || err.Error() != want {
		t.Fatalf("second listen: %v, want %q", err, want)
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("error does not unwrap to EADDRINUSE: %#v", err)
	}
}

// freePort finds a port with nothing listening (bound, then closed).
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, local, err := Caller{}.ListenTCP(loop4, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	return local
}

func TestConnectRefused(t *testing.T) {
	ap := freePort(t)
	_, err := Caller{}.DialTCP(context.Background(), "127.0.0.1", ap.Port())
	want := fmt.Sprintf("connect %v: connection refused", ap)
	if err == nil || err.Error() != want {
		t.Fatalf("dial: %v, want %q", err, want)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("not ECONNREFUSED: %#v", err)
	}
	_, err = Caller{}.DialTCP(context.Background(), "localhost", ap.Port())
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("connect localhost:%d: connection refused (tried ", ap.Port())) {
		t.Errorf("dial localhost: %v", err)
	}
}

func TestUnknownHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Caller{}.Resolve(ctx, "no-such-host.invalid")
	if err == nil {
		t.Fatal("resolved a .invalid name")
	}
	var dns *net.DNSError
	if !errors.As(err, &dns) {
		t.Fatalf("not a DNS error: %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "resolve no-such-host.invalid: ") {
		t.Errorf("error: %v", err)
	}
	if dns.IsNotFound && err.Error() != "resolve no-such-host.invalid: unknown host" {
		t.Errorf("error: %v", err)
	}
}

func TestReadTimeoutAndEOF(t *testing.T) {
	ln, local := listen(t, Caller{}, loop4)
	c, err := Caller{}.DialTCP(context.Background(), "127.0.0.1", local.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(150 * time.Millisecond)
	start := time.Now()
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent: %v, want timeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Errorf("timeout after %v, want about 150ms", d)
	}
	_ = conn.Close()
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("read after peer close: %d, %v; want 0, io.EOF", n, err)
	}
}

// TestLingerReset: an abortive close (SO_LINGER {1, 0}) sends RST, and the
// peer's blocked read fails with ECONNRESET.
func TestLingerReset(t *testing.T) {
	var rec recorder
	ln, local := listen(t, Caller{Who: "server"}, loop4)
	c, err := Caller{Who: "client", Trace: rec.trace}.DialTCP(context.Background(), "127.0.0.1", local.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetLingerReset(); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	c.SetTimeout(2 * time.Second)
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("read after RST: %v, want ECONNRESET", err)
	}
	want := fmt.Sprintf("read %v: connection reset by peer", local)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !strings.Contains(rec.lines(), fmt.Sprintf("client read(%d) = -1 ECONNRESET (connection reset by peer)", c.FD())) {
		t.Errorf("trace:\n%s", rec.lines())
	}
}

// TestShortWrites: with a small send buffer and a peer that does not read,
// one big Write needs several write(2) calls, each traced, and still
// delivers every byte once the peer reads.
func TestShortWrites(t *testing.T) {
	var rec recorder
	ln, local := listen(t, Caller{Who: "server"}, loop4)
	cli := Caller{Who: "client", Trace: rec.trace}
	c, err := cli.DialTCP(context.Background(), "127.0.0.1", local.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetSndBuf(4096); err != nil {
		t.Fatal(err)
	}
	conn, _, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 4 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i)
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // let the writer fill the buffers first
		b, _ := io.ReadAll(conn)
		got <- b
	}()
	n, err := c.Write(data)
	if err != nil || n != size {
		t.Fatalf("Write = %d, %v", n, err)
	}
	_ = c.Shutdown(ShutWR)
	b := <-got
	if len(b) != size {
		t.Fatalf("peer got %d bytes, want %d", len(b), size)
	}
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("byte %d differs", i)
		}
	}
	writes, sum := 0, 0
	for _, e := range rec.all() {
		if e.Call == "write" {
			writes++
			sum += e.N
		}
	}
	if writes < 2 || sum != size {
		t.Errorf("%d write calls moving %d bytes; want several moving %d", writes, sum, size)
	}
}

// TestRcvBuf: what SO_RCVBUF asked for and what getsockopt reports are
// related but not equal (Linux doubles it); both calls are traced.
func TestRcvBuf(t *testing.T) {
	var rec recorder
	s, err := Caller{Trace: rec.trace}.Socket(IPv4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetRcvBuf(8192); err != nil {
		t.Fatal(err)
	}
	n, err := s.RcvBuf()
	if err != nil || n < 4096 {
		t.Fatalf("RcvBuf = %d, %v", n, err)
	}
	want := fmt.Sprintf("getsockopt(%d, SOL_SOCKET, SO_RCVBUF) = %d", s.FD(), n)
	if !strings.Contains(rec.lines(), want) {
		t.Errorf("trace lacks %q:\n%s", want, rec.lines())
	}
}
