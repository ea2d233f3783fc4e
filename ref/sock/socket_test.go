//go:build unix

package sock

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/internal/golden"
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

var update = flag.Bool("update", false, "rewrite golden files")

// TestEventString: each call in strace's notation, checked against lines
// strace 6.1 printed for the same calls made by a Python program (the
// sockaddrs, setsockopt's [1], 4, the octal escapes), and kept as a golden
// file for review.
func TestEventString(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:8080")
	v6 := netip.MustParseAddrPort("[::1]:8080")
	hello := []byte("hello, world\n")
	long := []byte("hello, world\n\x00\x01\x1b\x7f\xff\"\\\t\r 0123456789012345678901234567890123456789")
	tests := []struct {
		e    Event
		want string // "" : only in the golden file
	}{
		{Event{Who: "client", Call: "socket", FD: -1, Domain: IPv4, Type: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP, Ret: 5},
			"client socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5"},
		{Event{Who: "server", Call: "setsockopt", FD: 3, Level: unix.SOL_SOCKET, Option: unix.SO_REUSEADDR, Value: 1},
			"server setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"},
		{Event{Who: "server", Call: "bind", FD: 3, Addr: netip.MustParseAddrPort("127.0.0.1:0")},
			`server bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`},
		{Event{Who: "server", Call: "bind", FD: 6, Addr: v6},
			`server bind(6, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`},
		{Event{Who: "server", Call: "listen", FD: 3, Backlog: 128}, "server listen(3, 128) = 0"},
		{Event{Who: "server", Call: "getsockname", FD: 3, Addr: netip.MustParseAddrPort("127.0.0.1:41939")},
			`server getsockname(3, {sa_family=AF_INET, sin_port=htons(41939), sin_addr=inet_addr("127.0.0.1")}, [16]) = 0`},
		{Event{Who: "client", Call: "connect", FD: 5, Addr: v4},
			`client connect(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`},
		{Event{Who: "server", Call: "accept", FD: 3, Ret: 6, Addr: netip.MustParseAddrPort("127.0.0.1:51234")},
			`server accept(3, {sa_family=AF_INET, sin_port=htons(51234), sin_addr=inet_addr("127.0.0.1")}, [16]) = 6`},
		{Event{Who: "client", Call: "write", FD: 5, Count: 13, Ret: 13, Data: hello}, `client write(5, "hello, world\n", 13) = 13`},
		{Event{Who: "client", Call: "write", FD: 4, Count: len(long), Ret: len(long), Data: long},
			`client write(4, "hello, world\n\0\1\33\177\377\"\\\t\r 012345678"..., 63) = 63`},
		{Event{Who: "server", Call: "write", FD: 5, Count: 8, Ret: 8, Data: []byte("\x01234\n\x0012")},
			`server write(5, "\001234\n\00012", 8) = 8`},
		{Event{Who: "server", Call: "read", FD: 6, Count: 4096, Ret: 13, Data: hello}, `server read(6, "hello, world\n", 4096) = 13`},
		{Event{Who: "server", Call: "read", FD: 6, Count: 4096}, `server read(6, "", 4096) = 0`},
		{Event{Who: "client", Call: "shutdown", FD: 4, How: ShutWR}, "client shutdown(4, SHUT_WR) = 0"},
		{Event{Who: "client", Call: "setsockopt", FD: 4, Level: unix.SOL_SOCKET, Option: unix.SO_LINGER, Linger: &Linger{Onoff: 1}},
			"client setsockopt(4, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"},
		{Event{Who: "client", Call: "getsockopt", FD: 4, Level: unix.SOL_SOCKET, Option: unix.SO_RCVBUF, Value: 131072},
			"client getsockopt(4, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0"},
		{Event{Who: "client", Call: "setsockopt", FD: 4, Level: unix.IPPROTO_TCP, Option: unix.TCP_NODELAY, Value: 1},
			"client setsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0"},
		{Event{Who: "server", Call: "close", FD: 6}, "server close(6) = 0"},
		{Event{Who: "client", Call: "connect", FD: 5, Addr: v4, Err: unix.ECONNREFUSED},
			`client connect(5, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`},
		{Event{Who: "server", Call: "accept", FD: 3, Err: net.ErrClosed}, "server accept(3, 0x…, [0x…]) = -1 (interrupted: the socket was closed)"},
		{Event{Who: "client", Call: "read", FD: 5, Count: 10, Err: os.ErrDeadlineExceeded}, "client read(5, 0x…, 10) = -1 (timed out)"},
		{Event{Who: "client", Call: "read", FD: 5, Count: 10, Err: unix.ECONNRESET}, "client read(5, 0x…, 10) = -1 ECONNRESET (Connection reset by peer)"},
		{Event{Call: "getaddrinfo", FD: -1, Host: "localhost", Ret: 0, Addrs: []netip.Addr{netip.IPv6Loopback(), netip.MustParseAddr("127.0.0.1")}},
			`getaddrinfo("localhost") = ::1, 127.0.0.1`},
		{Event{Call: "getaddrinfo", FD: -1, Host: "nosuch.invalid", Err: &net.DNSError{IsNotFound: true}}, `getaddrinfo("nosuch.invalid") = EAI_NONAME (unknown host)`},
	}
	var all bytes.Buffer
	for _, tt := range tests {
		got := tt.e.String()
		if tt.want != "" && got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		all.WriteString(got + "\n")
	}
	golden.Check(t, "testdata/calls.golden", all.Bytes(), *update)

	// -s: a shorter strsize cuts sooner; a longer one shows all.
	w := Event{Call: "write", FD: 5, Count: 13, Ret: 13, Data: hello}
	if got := string(w.AppendCall(nil, 5)); got != `write(5, "hello"..., 13) = 13` {
		t.Errorf("strsize 5: %s", got)
	}
	// Data kept shorter than what was moved still says the string goes on.
	w.Ret, w.Count = 10000, 10000
	if got := string(w.AppendCall(nil, 100)); got != `write(5, "hello, world\n"..., 10000) = 10000` {
		t.Errorf("short Data: %s", got)
	}
	e := Event{Call: "bind", FD: 3, Addr: netip.MustParseAddrPort("127.0.0.1:8080"), Took: 5 * time.Millisecond}
	want := `bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0   [blocked 5ms]` +
		"\n        " + strings.Join(DescribeSockaddr(e.Addr, HostEndian()), "\n        ")
	if got := e.Format(true); got != want {
		t.Errorf("verbose:\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(e.Format(true), "1f 90") {
		t.Errorf("verbose bind does not show port 8080's bytes 1f 90:\n%s", e.Format(true))
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
			sa := func(ap netip.AddrPort) string { return string(AppendSockaddr(nil, ap)) }
			n := SockaddrLen(addr)
			lfd, cfd, afd := ln.FD(), c.FD(), conn.FD()
			want := []string{
				fmt.Sprintf("server socket(%s, SOCK_STREAM, IPPROTO_TCP) = %d", fam, lfd),
				fmt.Sprintf("server setsockopt(%d, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0", lfd),
				fmt.Sprintf("server bind(%d, %s, %d) = 0", lfd, sa(addr), n),
				fmt.Sprintf("server listen(%d, 128) = 0", lfd),
				fmt.Sprintf("server getsockname(%d, %s, [%d]) = 0", lfd, sa(local), n),
				fmt.Sprintf(`client getaddrinfo(%q) = %v`, local.Addr().String(), local.Addr()),
				fmt.Sprintf("client socket(%s, SOCK_STREAM, IPPROTO_TCP) = %d", fam, cfd),
				fmt.Sprintf("client connect(%d, %s, %d) = 0", cfd, sa(local), n),
				fmt.Sprintf("server accept(%d, %s, [%d]) = %d", lfd, sa(cname), n, afd),
				fmt.Sprintf("client getsockname(%d, %s, [%d]) = 0", cfd, sa(cname), n),
				fmt.Sprintf("server getpeername(%d, %s, [%d]) = 0", afd, sa(cname), n),
				fmt.Sprintf(`client write(%d, "hello, world", 12) = 12`, cfd),
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
			var carried []byte
			i := 0
			for ; i < len(rest) && strings.HasPrefix(rest[i], fmt.Sprintf("server read(%d, ", afd)) && !strings.HasSuffix(rest[i], " = 0"); i++ {
			}
			for _, e := range rec.all() {
				if e.Call == "read" && e.FD == afd {
					carried = append(carried, e.Data[:e.Ret]...)
				}
			}
			if string(carried) != "hello, world" {
				t.Errorf("server reads carry %q, want %q:\n%s", carried, "hello, world", rec.lines())
			}
			tail := []string{
				fmt.Sprintf(`server read(%d, "", N) = 0`, afd),
				fmt.Sprintf("server close(%d) = 0", afd),
				fmt.Sprintf("client close(%d) = 0", cfd),
				fmt.Sprintf("server close(%d) = 0", lfd),
			}
			if i < len(rest) { // io.ReadAll's buffer size varies: the count is N
				rest[i] = regexp.MustCompile(`, \d+\) = 0$`).ReplaceAllString(rest[i], ", N) = 0")
			}
			if strings.Join(rest[i:], "\n") != strings.Join(tail, "\n") {
				t.Errorf("trace ends\n%s\nwant\n%s", strings.Join(rest[i:], "\n"), strings.Join(tail, "\n"))
			}
			for _, e := range rec.all() {
				if e.Call == "connect" && e.Addr != local {
					t.Errorf("connect event Addr = %v, want %v", e.Addr, local)
				}
				if e.Call == "write" && (e.Ret != 12 || e.Count != 12 || string(e.Data) != "hello, world") {
					t.Errorf("write event: Ret %d, Count %d, Data %q", e.Ret, e.Count, e.Data)
				}
				if (e.Call == "bind" || e.Call == "connect") && len(e.Details(HostEndian())) != 4 {
					t.Errorf("%s event has no byte-order detail: %q", e.Call, e.Details(HostEndian()))
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
	if !strings.Contains(rec.lines(), "accept("+fmt.Sprint(ln.FD())+", 0x…, [0x…]) = -1 (interrupted") {
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
	if !strings.Contains(rec.lines(), fmt.Sprintf("client read(%d, 0x…, 10) = -1 ECONNRESET (Connection reset by peer)", c.FD())) {
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
			sum += e.Ret
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
	want := fmt.Sprintf("getsockopt(%d, SOL_SOCKET, SO_RCVBUF, [%d], [4]) = 0", s.FD(), n)
	if !strings.Contains(rec.lines(), want) {
		t.Errorf("trace lacks %q:\n%s", want, rec.lines())
	}
}
