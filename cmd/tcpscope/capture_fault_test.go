package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/replay"
)

// syncBuffer is a bytes.Buffer a running child writes while the test reads.
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

// running is a tcpscope process started by a test.
type running struct {
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	done        chan error
}

func startBin(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(binary(t), args...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.errOut
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// waitFor polls until cond holds, failing after timeout.
func (r *running) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stdout:\n%.2000s\nstderr:\n%s", what, r.out.String(), r.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits for the process and returns its exit code.
func (r *running) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("tcpscope did not exit within %v; stderr:\n%s", timeout, r.errOut.String())
		return -1
	}
}

// noStackTrace fails if the output looks like a Go panic or runtime crash.
func noStackTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", "runtime.", "SIGSEGV", ".go:"} {
		if strings.Contains(stderr, s) {
			t.Fatalf("stderr has a stack trace (%q):\n%s", s, stderr)
		}
	}
}

// loopbackTraffic keeps a TCP connection on loopback busy (1 KiB every
// millisecond) until the test ends, and returns the server's port.
func loopbackTraffic(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	go func() {
		defer wg.Done()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		buf := bytes.Repeat([]byte("x"), 1024)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

// readCapture reads path with our reader and returns its frame count; a
// corrupt or truncated record fails the test.
func readCapture(t *testing.T, path string) int {
	t.Helper()
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatalf("replay.Open(%s): %v", path, err)
	}
	defer f.Close()
	n := 0
	for {
		_, err := f.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("%s: after %d frames: %v", path, n, err)
		}
		n++
	}
}

// tsharkReads checks that tshark reads path to the end without a complaint
// (a cut-off last record makes it say "cut short in the middle of a packet"
// and exit non-zero) and returns its frame count.
func tsharkReads(t *testing.T, path string) int {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark missing in CI (./dev test installs it)")
		}
		t.Log("tshark not installed: the file is checked with our reader only")
		return -1
	}
	cmd := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	msg := strings.TrimSpace(strings.ReplaceAll(errb.String(), `Running as user "root" and group "root". This could be dangerous.`, ""))
	if err != nil || msg != "" {
		t.Fatalf("tshark -r %s: %v: %s", path, err, msg)
	}
	return strings.Count(out.String(), "\n")
}

var wroteRE = regexp.MustCompile(`wrote (\d+) frames? to `)

// TestCaptureSignals stops a capture that is writing busy loopback traffic
// to a file with SIGINT and with SIGTERM, in both file formats: exit 0, the
// kernel's counters printed, no stack trace, and a file that our reader and
// tshark read to its last frame — every frame the capture showed.
func TestCaptureSignals(t *testing.T) {
	testroot.Need(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, ext := range []string{".pcap", ".pcapng"} {
			t.Run(fmt.Sprintf("%v%s", sig, ext), func(t *testing.T) {
				port := loopbackTraffic(t)
				path := filepath.Join(t.TempDir(), "F"+ext)
				r := startBin(t, "capture", "--color", "never", "-w", path, "tcp", "port", strconv.Itoa(port))
				// Wait until segments flow (output is block-buffered into
				// a pipe, so watch the file grow instead).
				r.waitFor(t, "the capture file to grow", 10*time.Second, func() bool {
					st, err := os.Stat(path)
					return err == nil && st.Size() > 200<<10
				})
				if err := r.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code := r.exit(t, 10*time.Second)
				stderr := r.errOut.String()
				noStackTrace(t, stderr)
				if code != exitOK {
					t.Fatalf("exit code %d after %v, want 0; stderr:\n%s", code, sig, stderr)
				}
				if !strings.Contains(stderr, "packets received by the kernel") {
					t.Errorf("no kernel counters line after %v:\n%s", sig, stderr)
				}
				m := wroteRE.FindStringSubmatch(stderr)
				if m == nil {
					t.Fatalf("no 'wrote N frames' line:\n%s", stderr)
				}
				wrote, _ := strconv.Atoi(m[1])
				ours := readCapture(t, path)
				shown := strings.Count(r.out.String(), "\n#") + boolInt(strings.HasPrefix(r.out.String(), "#"))
				if ours != wrote || shown != wrote || wrote < 100 {
					t.Errorf("said it wrote %d frames; our reader reads %d, %d segments were shown", wrote, ours, shown)
				}
				if n := tsharkReads(t, path); n >= 0 && n != wrote {
					t.Errorf("tshark reads %d frames, the capture wrote %d", n, wrote)
				}
				t.Logf("%v: exit %d, %d frames written and read back", sig, code, wrote)
			})
		}
	}
}

// mountTiny mounts a 64 KiB tmpfs on a new directory, unmounted when the
// test ends.
func mountTiny(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount -t tmpfs: %v: %s", err, out)
		}
		t.Skipf("skipping: cannot mount a small tmpfs here (%v: %s); capture/write_test.go covers the same with a simulated full disk", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestCaptureDiskFull captures busy loopback traffic into a file on a
// 64 KiB tmpfs: the capture stops with one line naming the file and the
// full disk, exit 1, and the file — cut back to its last whole frame — is
// read to the end by our reader and by tshark.
func TestCaptureDiskFull(t *testing.T) {
	testroot.Need(t)
	for _, ext := range []string{".pcap", ".pcapng"} {
		t.Run(ext[1:], func(t *testing.T) {
			dir := mountTiny(t)
			port := loopbackTraffic(t)
			path := filepath.Join(dir, "F"+ext)
			r := startBin(t, "capture", "--color", "never", "-w", path, "tcp", "port", strconv.Itoa(port))
			code := r.exit(t, 20*time.Second)
			stderr := r.errOut.String()
			noStackTrace(t, stderr)
			if code != exitError {
				t.Fatalf("exit code %d on a full disk, want 1; stderr:\n%s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			want := "tcpscope: write " + path + ": no space left on device"
			if !strings.HasPrefix(last, want) {
				t.Fatalf("last line %q, want it to start with %q; stderr:\n%s", last, want, stderr)
			}
			if n := strings.Count(stderr, "no space left"); n != 1 {
				t.Errorf("the full disk is reported %d times:\n%s", n, stderr)
			}
			held := regexp.MustCompile(`holds the first (\d+) frames`).FindStringSubmatch(last)
			if held == nil {
				t.Fatalf("the error does not say how many frames the file holds: %q", last)
			}
			want2, _ := strconv.Atoi(held[1])
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() < 32<<10 {
				t.Errorf("the file is %d bytes: the 64 KiB disk did not fill", st.Size())
			}
			ours := readCapture(t, path)
			if ours != want2 || ours == 0 {
				t.Errorf("our reader reads %d frames, the message says %d", ours, want2)
			}
			if n := tsharkReads(t, path); n >= 0 && n != ours {
				t.Errorf("tshark reads %d frames, our reader %d", n, ours)
			}
			t.Logf("%s: %q; file %d bytes, %d whole frames", ext, last, st.Size(), ours)
		})
	}
}

// TestCaptureInterfaceGone deletes the interface under a running capture:
// one line naming the interface, exit 1, and a complete file. A dummy link
// is used where the kernel has the dummy driver, else a veth pair (a
// kernel built without modules, as in some sandboxes, lacks "dummy").
func TestCaptureInterfaceGone(t *testing.T) {
	testroot.Need(t)
	iface := "tsd0"
	if out, err := exec.Command("ip", "link", "add", iface, "type", "dummy").CombinedOutput(); err != nil {
		t.Logf("no dummy link (%v: %s); using a veth pair", err, bytes.TrimSpace(out))
		iface = "tsv0"
		if out, err := exec.Command("ip", "link", "add", iface, "type", "veth", "peer", "name", "tsv1").CombinedOutput(); err != nil {
			t.Skipf("skipping: cannot create a dummy or veth link here (%v: %s)", err, bytes.TrimSpace(out))
		}
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			exec.Command("ip", "link", "del", iface).Run()
		}
	})
	setup := [][]string{{"link", "set", iface, "up"}, {"addr", "add", "10.213.7.1/24", "dev", iface}}
	if iface == "tsv0" {
		setup = append(setup, []string{"link", "set", "tsv1", "up"}) // else tsv0 has no carrier and sends nothing
	}
	for _, args := range setup {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	path := filepath.Join(t.TempDir(), "F.pcapng")
	r := startBin(t, "capture", "--color", "never", "-i", iface, "-w", path)
	r.waitFor(t, "the capture to start", 10*time.Second, func() bool { return strings.Contains(r.errOut.String(), "capturing on") })
	// Something to capture: datagrams (and ARP requests) out of the link.
	if c, err := net.Dial("udp", "10.213.7.2:9"); err == nil {
		for i := 0; i < 5; i++ {
			c.Write([]byte("tcpscope"))
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
	time.Sleep(300 * time.Millisecond)
	if out, err := exec.Command("ip", "link", "del", iface).CombinedOutput(); err != nil {
		t.Fatalf("ip link del %s: %v: %s", iface, err, out)
	}
	deleted = true
	code := r.exit(t, 10*time.Second)
	stderr := r.errOut.String()
	noStackTrace(t, stderr)
	if code != exitError {
		t.Fatalf("exit code %d after the interface went away, want 1; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if want := "tcpscope: capture on " + iface + " stopped: the interface disappeared"; !strings.HasPrefix(last, want) {
		t.Errorf("last line %q, want %q…", last, want)
	}
	m := wroteRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no 'wrote N frames' line:\n%s", stderr)
	}
	wrote, _ := strconv.Atoi(m[1])
	if ours := readCapture(t, path); ours != wrote || wrote == 0 {
		t.Errorf("our reader reads %d frames, the capture wrote %d (want some)", ours, wrote)
	}
	if n := tsharkReads(t, path); n >= 0 && n != wrote {
		t.Errorf("tshark reads %d frames, the capture wrote %d", n, wrote)
	}
	t.Logf("%s deleted: %q; %d frames in the file", iface, last, wrote)
}

// TestReplayBrokenPipe is "tcpscope replay big.pcap | head -1": the reader
// of stdout leaves after one line. tcpscope must stop at once, say nothing
// on stderr, and exit 141 (128 + SIGPIPE, as documented), in text and JSON.
func TestReplayBrokenPipe(t *testing.T) {
	for _, mode := range [][]string{{"--color", "never"}, {"--json"}} {
		t.Run(mode[0], func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			pinPipe(t, pw)
			// 725 KB of text: much more than the pipe and the output buffer hold.
			args := append([]string{"replay", "../../pcaps/zeek-http-1000-requests-one-dropped-response.pcap"}, mode...)
			cmd := exec.Command(binary(t), args...)
			var errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = pw, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil || len(line) < 10 {
				t.Fatalf("first line %q: %v", line, err)
			}
			pr.Close() // head -1 exits
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("tcpscope went on after its reader left")
			}
			if code := cmd.ProcessState.ExitCode(); code != exitBrokenPipe {
				t.Errorf("exit code %d (%v), want %d", code, cmd.ProcessState, exitBrokenPipe)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr not empty: %q", errb.String())
			}
		})
	}
}
