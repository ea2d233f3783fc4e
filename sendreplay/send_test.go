package sendreplay

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/ref/echo"
	"github.com/tcpscope/tcpscope/replay"
)

var update = flag.Bool("update", false, "rewrite testdata/echo-session.pcap from a new live recording")

// needCapture skips (or, under CI, fails) when tcpdump cannot record on
// loopback here.
func needCapture(t *testing.T) string {
	t.Helper()
	why := ""
	path, err := exec.LookPath("tcpdump")
	switch {
	case err != nil:
		why = "tcpdump is not installed"
	case os.Geteuid() != 0:
		why = "recording on loopback with tcpdump needs root"
	}
	if why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: this test must run)", why)
		}
		t.Skipf("skipping: %s (run as root with tcpdump installed, or set CI=true to make this fail)", why)
	}
	return path
}

// record captures, with tcpdump on lo, the traffic to or from port while
// session runs, and returns the pcap file.
func record(t *testing.T, port int, session func()) string {
	t.Helper()
	tcpdump := needCapture(t)
	out := filepath.Join(t.TempDir(), "session.pcap")
	cmd := exec.Command(tcpdump, "-i", "lo", "--immediate-mode", "-U", "-n", "-w", out, fmt.Sprintf("tcp port %d", port))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "listening on") {
				close(ready)
				signalled = true
			}
		}
		if !signalled {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("tcpdump did not start listening within 10 s")
	}
	session()
	time.Sleep(200 * time.Millisecond) // let the last ACKs reach the capture
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("tcpdump did not stop within 10 s of SIGINT")
	}
	return out
}

func load(t *testing.T, path string, stream int) *Session {
	t.Helper()
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Load(f, stream)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startEcho starts the project's reference echo server on 127.0.0.1:0.
func startEcho(t *testing.T) string {
	t.Helper()
	srv, err := echo.Listen(echo.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); srv.Close(); <-done })
	return srv.Addr().String()
}

// The echo dialogue recorded: two lines, each written after the previous
// echo came back, then a half-close.
var echoLines = []string{"hello, echo\n", "a second, longer line to echo back\n"}

func echoClient(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, l := range echoLines {
		if _, err := io.WriteString(c, l); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(l))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
}

// echoCapture returns a real capture of the echo dialogue: recorded now
// when possible, else the committed one (recorded the same way with -update).
func echoCapture(t *testing.T) string {
	t.Helper()
	committed := filepath.Join("testdata", "echo-session.pcap")
	_, terr := exec.LookPath("tcpdump")
	if !*update && (os.Geteuid() != 0 || terr != nil) && os.Getenv("CI") != "true" {
		t.Logf("not root or no tcpdump: using the committed recording %s", committed)
		return committed
	}
	addr := startEcho(t)
	_, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	path := record(t, p, func() { echoClient(t, addr) })
	if *update {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committed, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestEchoSessionLoads(t *testing.T) {
	s := load(t, echoCapture(t), -1)
	if len(s.Chunks) != len(echoLines) {
		t.Fatalf("%d chunks, want %d (one per client write)", len(s.Chunks), len(echoLines))
	}
	for i, l := range echoLines {
		if string(s.Chunks[i].Data) != l {
			t.Errorf("chunk %d = %q, want %q", i, s.Chunks[i].Data, l)
		}
	}
	// The second line was written after the first echo came back.
	if s.Chunks[0].Acked != 0 || s.Chunks[1].Acked != len(echoLines[0]) {
		t.Errorf("acked before each write = %d, %d; want 0, %d", s.Chunks[0].Acked, s.Chunks[1].Acked, len(echoLines[0]))
	}
	if got, want := string(s.Reply), strings.Join(echoLines, ""); got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	if !s.ClientBySYN || !s.ClientFIN || !s.ServerClosed {
		t.Errorf("ClientBySYN %v ClientFIN %v ServerClosed %v; want all true", s.ClientBySYN, s.ClientFIN, s.ServerClosed)
	}
}

func TestEchoReplayIdentical(t *testing.T) {
	s := load(t, echoCapture(t), -1)
	addr := startEcho(t) // a new server on a new port
	res, err := Run(context.Background(), s, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Report(&out)
	n := len(strings.Join(echoLines, ""))
	if !res.Match() || out.String() != fmt.Sprintf("identical (%d bytes)\n", n) {
		t.Fatalf("verdict %v: %s", res.Verdict, out.String())
	}
	if res.Writes != 2 || res.Sent != n {
		t.Errorf("writes %d sent %d; want 2, %d", res.Writes, res.Sent, n)
	}
}

// fakeServer serves one connection with handle on 127.0.0.1:0.
func fakeServer(t *testing.T, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c.(*net.TCPConn))
	}()
	return ln.Addr().String()
}

// TestEchoReplayDifferences replays the real echo capture against servers
// that answer wrongly in each of the ways send reports.
func TestEchoReplayDifferences(t *testing.T) {
	s := load(t, echoCapture(t), -1)
	first := len(echoLines[0])
	cases := []struct {
		name    string
		handle  func(c *net.TCPConn)
		verdict Verdict
		offset  int
		report  string
	}{
		{"one byte changed", func(c *net.TCPConn) {
			// Echo, but upper-case the 'a' that starts the second line.
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				b := bytes.Replace(buf[:n], []byte("a second"), []byte("A second"), 1)
				c.Write(b)
				if err != nil {
					return
				}
			}
		}, Differs, first, fmt.Sprintf("differs at byte %d (counting from 0): captured 'a' (0x61), received 'A' (0x41)", first)},
		{"closes after the first line", func(c *net.TCPConn) {
			buf := make([]byte, first)
			io.ReadFull(c, buf)
			c.Write(buf)
		}, ClosedEarly, first, "server closed or reset early"},
		{"resets after the first line", func(c *net.TCPConn) {
			buf := make([]byte, first)
			io.ReadFull(c, buf)
			c.Write(buf)
			time.Sleep(50 * time.Millisecond)
			c.SetLinger(0)
		}, ClosedEarly, first, "reset the connection"},
		{"says more", func(c *net.TCPConn) {
			io.Copy(c, c)
			io.WriteString(c, "and one more thing\n")
		}, Longer, 0, "longer: received"},
		{"stays silent after the first echo", func(c *net.TCPConn) {
			buf := make([]byte, first)
			io.ReadFull(c, buf)
			c.Write(buf)
			io.Copy(io.Discard, c)
			time.Sleep(2 * time.Second)
		}, Shorter, 0, "shorter: received 12 of the 47 captured bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, tc.handle)
			res, err := Run(context.Background(), s, addr, Options{Wait: 300 * time.Millisecond, Grace: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res.Report(&out)
			if res.Verdict != tc.verdict || res.Match() {
				t.Fatalf("verdict %v, want %v:\n%s", res.Verdict, tc.verdict, out.String())
			}
			if tc.verdict == Differs && res.Offset != tc.offset {
				t.Errorf("offset %d, want %d", res.Offset, tc.offset)
			}
			if !strings.Contains(out.String(), tc.report) {
				t.Errorf("report lacks %q:\n%s", tc.report, out.String())
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	s := load(t, echoCapture(t), -1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Run(context.Background(), s, addr, Options{})
	if err == nil || err.Error() != "connect to "+addr+": connection refused" {
		t.Fatalf("got %v, want 'connect to %s: connection refused'", err, addr)
	}
}

func TestNoSuchStream(t *testing.T) {
	f, err := replay.Open(echoCapture(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Load(f, 5)
	if err == nil || err.Error() != "no such stream 5: the capture holds 1 TCP stream, numbered from 0" {
		t.Fatalf("got %v", err)
	}
}

func TestStreamWithoutClientData(t *testing.T) {
	// Stream 0 of this capture is a handshake and reset, no data.
	f, err := replay.Open(filepath.Join("..", "pcaps", "zeek-tcp-syn-then-stuff-then-rst.pcap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Load(f, 0)
	if err == nil || !strings.Contains(err.Error(), "the client sent no data") {
		t.Fatalf("got %v", err)
	}
}

// TestHTTPServer records a real HTTP/1.0 exchange with Python's http.server,
// replays it against the same server (identical), then changes one byte of
// the served file and checks the difference is found at the right byte.
func TestHTTPServer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is missing (CI=true: this test must run)")
		}
		t.Skip("skipping: python3 is not installed")
	}
	needCapture(t)
	dir := t.TempDir()
	body := []byte("Hello from http.server: the quick brown fox jumps over the lazy dog.\n")
	file := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(file, mtime, mtime)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srv := exec.Command(py, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, fmt.Sprint(port))
	srv.Stdout, srv.Stderr = io.Discard, io.Discard
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("http.server did not listen on %s within 10 s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}

	get := func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /hello.txt HTTP/1.0\r\nHost: localhost\r\n\r\n")
		io.ReadAll(c)
	}
	// The reply carries a Date header with one-second resolution: record
	// and replay within the same second, trying again if a second boundary
	// fell in between (a real difference would persist).
	var s *Session
	var res *Result
	for try := 0; try < 5; try++ {
		for time.Now().Nanosecond() > 200e6 {
			time.Sleep(10 * time.Millisecond)
		}
		var sec int64
		path := record(t, port, func() { sec = time.Now().Unix(); get() })
		s = load(t, path, -1)
		res, err = Run(context.Background(), s, addr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().Unix() == sec {
			break
		}
		t.Logf("try %d crossed a second boundary; again", try)
	}
	var out bytes.Buffer
	res.Report(&out)
	if !res.Match() {
		t.Fatalf("replay against the same server: %s", out.String())
	}
	hdrEnd := bytes.Index(s.Reply, []byte("\r\n\r\n"))
	if hdrEnd < 0 || !bytes.HasSuffix(s.Reply, body) || !bytes.HasPrefix(s.Reply, []byte("HTTP/1.0 200 OK")) {
		t.Fatalf("captured reply is not the expected response:\n%q", s.Reply)
	}

	// Change one byte ("quick" → "quack"), keep the length and mtime.
	changed := bytes.Replace(body, []byte("quick"), []byte("quack"), 1)
	if err := os.WriteFile(file, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(file, mtime, mtime)
	for try := 0; try < 5; try++ {
		res, err = Run(context.Background(), s, addr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Outside the Date header, or try again in the next second.
		if res.Verdict != Differs || !bytes.Contains(lineAt(s.Reply, res.Offset), []byte("Date:")) {
			break
		}
		time.Sleep(time.Second)
	}
	want := hdrEnd + 4 + bytes.Index(body, []byte("quick")) + 2
	out.Reset()
	res.Report(&out)
	if res.Verdict != Differs || res.Offset != want {
		t.Fatalf("verdict %v at %d, want Differs at %d:\n%s", res.Verdict, res.Offset, want, out.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("differs at byte %d (counting from 0): captured 'i' (0x69), received 'a' (0x61)", want)) ||
		!strings.Contains(out.String(), "|: the quick brow|") || !strings.Contains(out.String(), "|: the quack brow|") {
		t.Errorf("report:\n%s", out.String())
	}
}

// lineAt returns the line of b that holds byte off.
func lineAt(b []byte, off int) []byte {
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	end := bytes.IndexByte(b[off:], '\n')
	if end < 0 {
		return b[start:]
	}
	return b[start : off+end]
}

// TestPace: with Pace, each write leaves at its captured time after the
// connect; without, as soon as its turn comes.
func TestPace(t *testing.T) {
	s := &Session{
		Chunks: []Chunk{{Data: []byte("one"), At: 0}, {Data: []byte("two"), At: 400 * time.Millisecond}},
		Reply:  []byte("onetwo"),
	}
	for _, pace := range []bool{true, false} {
		arrived := make(chan time.Duration, 2)
		addr := fakeServer(t, func(c *net.TCPConn) {
			start := time.Now()
			buf := make([]byte, 3)
			for i := 0; i < 2; i++ {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				arrived <- time.Since(start)
				c.Write(buf)
			}
		})
		res, err := Run(context.Background(), s, addr, Options{Pace: pace, Grace: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Match() {
			t.Fatalf("pace %v: verdict %v", pace, res.Verdict)
		}
		<-arrived
		gap := <-arrived
		if pace && (gap < 350*time.Millisecond || gap > 600*time.Millisecond) {
			t.Errorf("paced: second write arrived after %v, want about 400ms", gap)
		}
		if !pace && gap > 200*time.Millisecond {
			t.Errorf("unpaced: second write arrived after %v, want at once", gap)
		}
	}
}
