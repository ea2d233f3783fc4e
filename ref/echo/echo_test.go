package echo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/ref/sock"
	"golang.org/x/sys/unix"
)

type recorder struct {
	mu     sync.Mutex
	events []sock.Event
}

func (r *recorder) trace(e sock.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []sock.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sock.Event(nil), r.events...)
}

func (r *recorder) String() string {
	var b strings.Builder
	for _, e := range r.all() {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// syncBuffer is a bytes.Buffer safe for the server goroutine's Log.
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

// start runs a server in the background until the test ends and returns it
// with a channel that yields Serve's result.
func start(t *testing.T, cfg ServerConfig) (*Server, <-chan error) {
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
	finished := make(chan struct{})
	go func() {
		done <- srv.Serve(ctx)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(2 * time.Second):
			t.Error("server did not stop within 2s of cancel")
		}
	})
	return srv, done
}

func TestEchoLines(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			srv, _ := start(t, ServerConfig{Addr: netip.MustParseAddrPort(addr)})
			var out bytes.Buffer
			lines := []string{"hello", "", "a longer line with some words in it", strings.Repeat("x", 10000)}
			res, err := RunClient(context.Background(), ClientConfig{Addr: srv.Addr().String(), Lines: lines, Out: &out})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join(lines, "\n") + "\n"
			if out.String() != want {
				t.Errorf("replies differ: got %d bytes, want %d", out.Len(), len(want))
			}
			if res.Sent != len(want) || res.Received != len(want) {
				t.Errorf("sent %d, received %d, want %d each", res.Sent, res.Received, len(want))
			}
			if res.Remote != srv.Addr() || !res.Local.IsValid() || res.Local.Port() == 0 {
				t.Errorf("ends: local %v remote %v (server %v)", res.Local, res.Remote, srv.Addr())
			}
		})
	}
}

func TestEchoStdin(t *testing.T) {
	srv, _ := start(t, ServerConfig{})
	var out bytes.Buffer
	in := strings.NewReader("one\ntwo\nthree\n")
	if _, err := RunClient(context.Background(), ClientConfig{Addr: srv.Addr().String(), Stdin: in, Out: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\nthree\n" {
		t.Errorf("got %q", out.String())
	}
}

// TestServerShortReads feeds the server a byte at a time, then in odd
// chunks, with Nagle off and pauses so the pieces arrive as separate
// segments; everything must come back, in order.
func TestServerShortReads(t *testing.T) {
	srv, _ := start(t, ServerConfig{BufSize: 7})
	c, err := sock.Caller{}.DialTCP(context.Background(), "127.0.0.1", srv.Addr().Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetNoDelay(true); err != nil {
		t.Fatal(err)
	}
	msg := []byte("short reads are normal in TCP, and a server must cope with them.")
	var chunks [][]byte
	for i := 0; i < 10; i++ {
		chunks = append(chunks, msg[i:i+1])
	}
	for rest, size := msg[10:], 3; len(rest) > 0; size = size%5 + 2 {
		size = min(size, len(rest))
		chunks = append(chunks, rest[:size])
		rest = rest[size:]
	}
	for _, ch := range chunks {
		if _, err := c.Write(ch); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := c.Shutdown(sock.ShutWR); err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("echo %q, want %q", got, msg)
	}
}

// TestClientShortReads runs the client against a server that answers a byte
// at a time: the client must keep reading until all its bytes are back.
func TestClientShortReads(t *testing.T) {
	srv := sock.Caller{Who: "trickle"}
	ln, local, err := srv.ListenTCP(netip.MustParseAddrPort("127.0.0.1:0"), sock.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, _, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetNoDelay(true)
		buf := make([]byte, 100)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			for i := 0; i < n; i++ {
				if _, err := conn.Write(buf[i : i+1]); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var rec recorder
	var out bytes.Buffer
	_, err = RunClient(context.Background(), ClientConfig{Addr: local.String(), Lines: []string{"trickle", "down"}, Out: &out, Trace: rec.trace})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "trickle\ndown\n" {
		t.Errorf("got %q", out.String())
	}
	reads := 0
	for _, e := range rec.all() {
		if e.Call == "read" {
			reads++
		}
	}
	if reads < 3 {
		t.Errorf("only %d reads for 13 bytes sent a byte at a time; trace:\n%s", reads, &rec)
	}
}

// TestTraceOrder checks the story the trace tells of one echo exchange.
func TestTraceOrder(t *testing.T) {
	var rec recorder
	srv, done := start(t, ServerConfig{Trace: rec.trace, MaxConns: 1})
	if _, err := RunClient(context.Background(), ClientConfig{Addr: srv.Addr().String(), Lines: []string{"hello world"}, Trace: rec.trace}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	ev := rec.all()
	find := func(who, call string, from int, ok func(sock.Event) bool) int {
		for i := from; i < len(ev); i++ {
			if ev[i].Who == who && ev[i].Call == call && (ok == nil || ok(ev[i])) {
				return i
			}
		}
		t.Fatalf("no %s %s after event %d in trace:\n%s", who, call, from, &rec)
		return -1
	}
	sSock := find("server", "socket", 0, nil)
	lfd := ev[sSock].Ret
	onL := func(e sock.Event) bool { return e.FD == lfd }
	sBind := find("server", "bind", sSock, onL)
	sListen := find("server", "listen", sBind, onL)
	cSock := find("client", "socket", sListen, nil)
	cfd := ev[cSock].Ret
	onC := func(e sock.Event) bool { return e.FD == cfd }
	cConn := find("client", "connect", cSock, onC)
	sAcc := find("server", "accept", sListen, onL)
	afd := ev[sAcc].Ret
	onA := func(e sock.Event) bool { return e.FD == afd }
	if ev[sAcc].Addr.Port() == 0 || ev[cConn].Addr != srv.Addr() {
		t.Errorf("accept from %v, connect to %v (server %v)", ev[sAcc].Addr, ev[cConn].Addr, srv.Addr())
	}
	cWrite := find("client", "write", cConn, onC)
	if ev[cWrite].Ret != 12 {
		t.Errorf("client wrote %d bytes, want 12", ev[cWrite].Ret)
	}
	sRead := find("server", "read", sAcc, onA)
	sWrite := find("server", "write", sRead, onA)
	if ev[sRead].Ret != 12 || ev[sWrite].Ret != 12 {
		t.Errorf("server read %d, wrote %d; want 12, 12\n%s", ev[sRead].Ret, ev[sWrite].Ret, &rec)
	}
	cRead := find("client", "read", cWrite, onC)
	find("client", "close", cRead, onC)
	sEOF := find("server", "read", sWrite, func(e sock.Event) bool { return e.FD == afd && e.Ret == 0 && e.Err == nil })
	find("server", "close", sEOF, onA)
	find("server", "close", sEOF, onL)
	// All three sockets are open at once in this process: distinct numbers.
	if cfd == lfd || afd == lfd || afd == cfd {
		t.Errorf("descriptors: listen %d, accept %d, client %d", lfd, afd, cfd)
	}
	// Every line renders in the lecture format.
	want := fmt.Sprintf(`server accept(%d, {sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr("127.0.0.1")}, [16]) = %d`,
		lfd, ev[sAcc].Addr.Port(), afd)
	if ev[sAcc].String() != want {
		t.Errorf("accept renders %q, want %q", ev[sAcc].String(), want)
	}
}

// TestClientReset: the client ends with RST; the server's read fails with
// ECONNRESET, which the server reports and survives.
func TestClientReset(t *testing.T) {
	var rec recorder
	var log syncBuffer
	srv, done := start(t, ServerConfig{Trace: rec.trace, Log: &log, MaxConns: 2})
	addr := srv.Addr().String()
	if _, err := RunClient(context.Background(), ClientConfig{Addr: addr, Lines: []string{"bye"}, Reset: true}); err != nil {
		t.Fatal(err)
	}
	// The server must still serve the next client.
	var out bytes.Buffer
	if _, err := RunClient(context.Background(), ClientConfig{Addr: addr, Lines: []string{"still here"}, Out: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "still here\n" {
		t.Errorf("second client got %q", out.String())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	reset := false
	for _, e := range rec.all() {
		if e.Who == "server" && e.Call == "read" && errors.Is(e.Err, unix.ECONNRESET) {
			reset = true
		}
	}
	if !reset {
		t.Errorf("no server read failed with ECONNRESET:\n%s", &rec)
	}
	if !strings.Contains(log.String(), "connection reset by peer") {
		t.Errorf("server log: %q", log.String())
	}
}

// TestServerReset: the server aborts after its first echo; the client,
// still reading, gets the echo and then ECONNRESET.
func TestServerReset(t *testing.T) {
	srv, _ := start(t, ServerConfig{Reset: true})
	c, err := sock.Caller{}.DialTCP(context.Background(), "127.0.0.1", srv.Addr().Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(2 * time.Second)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if !errors.Is(err, unix.ECONNRESET) {
				t.Fatalf("read ended with %v, want ECONNRESET", err)
			}
			break
		}
	}
	if string(got) != "ping" {
		t.Errorf("got %q before the reset, want \"ping\"", got)
	}
}

// TestSlowReader: with a small receive buffer and a server that waits
// before reading, the client's big write cannot finish until the server
// reads: flow control makes the sender wait.
func TestSlowReader(t *testing.T) {
	const pause = 600 * time.Millisecond
	srv, _ := start(t, ServerConfig{SlowReader: pause, RcvBuf: 4096})
	var out bytes.Buffer
	begin := time.Now()
	res, err := RunClient(context.Background(), ClientConfig{Addr: srv.Addr().String(), Bulk: 1 << 20, SndBuf: 4096, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != 1<<20 {
		t.Fatalf("received %d bytes", res.Received)
	}
	if res.WriteTook < pause/2 {
		t.Errorf("write of 1 MiB took %v although the server did not read for %v: the window did not close", res.WriteTook, pause)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("slow-reader run took %v", d)
	}
	if !strings.HasPrefix(out.String(), "sent 1048576 bytes, got 1048576 bytes back") {
		t.Errorf("output %q", out.String())
	}
}

func TestErrors(t *testing.T) {
	srv, _ := start(t, ServerConfig{})
	_, err := Listen(ServerConfig{Addr: srv.Addr()})
	if want := fmt.Sprintf("listen %v: address already in use", srv.Addr()); err == nil || err.Error() != want {
		t.Errorf("busy port: %v, want %q", err, want)
	}
	// A port nobody listens on: take one and give it back.
	tmp, err := Listen(ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	free := tmp.Addr()
	_ = tmp.Close()
	_, err = RunClient(context.Background(), ClientConfig{Addr: free.String(), Lines: []string{"x"}})
	if want := fmt.Sprintf("connect %v: connection refused", free); err == nil || err.Error() != want {
		t.Errorf("refused: %v, want %q", err, want)
	}
	for _, bad := range []string{"localhost", "127.0.0.1:99999", ":80", "[::1]"} {
		if _, err := RunClient(context.Background(), ClientConfig{Addr: bad}); err == nil || !strings.HasPrefix(err.Error(), "bad address") {
			t.Errorf("address %q: %v", bad, err)
		}
	}
}

// TestCancelStopsServer: cancelling the context stops a server blocked in
// accept and one blocked in read with a client connected.
func TestCancelStopsServer(t *testing.T) {
	srv, err := Listen(ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c, err := sock.Caller{}.DialTCP(context.Background(), "127.0.0.1", srv.Addr().Port())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // the server is now in read
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve still running 2s after cancel")
	}
	if _, err := (sock.Caller{}).DialTCP(context.Background(), "127.0.0.1", srv.Addr().Port()); !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("connect after stop: %v, want connection refused", err)
	}
}

// TestSlowReaderKeepsReading: the slow reader's server goes on reading while
// its echoes wait for a client that does not read them yet (see
// SlowReaderSndBuf for the deadlock it prevents). The client, with a 4 KiB
// receive buffer and 300-byte segments, sends 64 KiB before it reads a
// byte: its write ends only if the server kept reading. It runs in a
// network namespace of its own whose loopback carries one segment per
// packet, as the demo's does (with 64 KiB GSO packets the kernel's buffers
// cost so little that the default send buffer holds the echo anyway).
func TestSlowReaderKeepsReading(t *testing.T) {
	if os.Getenv(insideEnv) != "1" {
		testroot.Need(t)
		if _, err := exec.LookPath("ip"); err != nil {
			t.Skip("skipping: needs iproute2's ip command")
		}
		ns := fmt.Sprintf("tcpscope-echo-%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		defer exec.Command("ip", "netns", "del", ns).Run()
		cmd := exec.Command("ip", "netns", "exec", ns, "sh", "-c",
			`ip link set lo up && ip link set lo gso_max_segs 1 && exec "$0" -test.run '^TestSlowReaderKeepsReading$' -test.v`, os.Args[0])
		cmd.Env = append(os.Environ(), insideEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a network namespace: %v\n%s", err, out)
		}
		return
	}
	srv, _ := start(t, ServerConfig{SlowReader: 100 * time.Millisecond, MaxSeg: 300})
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			for _, o := range [][3]int{{unix.SOL_SOCKET, unix.SO_RCVBUF, 4096}, {unix.SOL_SOCKET, unix.SO_SNDBUF, 16 << 10}, {unix.IPPROTO_TCP, unix.TCP_MAXSEG, 300}} {
				if serr == nil {
					serr = unix.SetsockoptInt(int(fd), o[0], o[1], o[2])
				}
			}
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := Pattern(64 << 10)
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Write(data); err != nil {
		t.Fatalf("wrote %d of %d bytes before the client read anything: %v (the server stopped reading while its echo waited)", n, len(data), err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	back := make([]byte, len(data))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Fatal("the echo differs from what was sent")
	}
}

// insideEnv marks the test binary re-run inside a network namespace.
const insideEnv = "TCPSCOPE_ECHO_TEST_NETNS"
