package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

var (
	kernelRE   = regexp.MustCompile(`(\d+) packets received by the kernel, (\d+) dropped by the kernel`)
	notShownRE = regexp.MustCompile(`(\d+) frames? written to .* but not shown: the output was read too slowly`)
)

// flood sends n writes of 64 KiB over a fresh loopback connection, one a
// millisecond: on loopback each goes as one 64 KiB GSO frame or a few, so
// the frames quickly fill any buffer that is not drained, and the pace
// stays one a program writing the file can follow on a busy machine.
func flood(t *testing.T, ln net.Listener, n int) {
	t.Helper()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Repeat([]byte("y"), 64<<10)
	for i := 0; i < n; i++ {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
}

// TestCaptureSlowReaderKeepsFile is "capture -w F | slow-reader": stdout is
// a pipe nobody reads while a flood of loopback segments goes by. The file
// must get every packet: the kernel drops none, and the file holds as many
// frames as tcpdump saw of the same traffic, while the lines that could
// not be shown are counted on stderr. (Before, writing the file waited for
// stdout: the kernel's buffer filled and the file lost most of the flood.)
func TestCaptureSlowReaderKeepsFile(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	path := filepath.Join(dir, "F.pcap")

	// The default 32 MiB kernel buffer: a capture that stops reading
	// for the display fills it within a third of the flood.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pinPipe(t, pw)
	defer pr.Close()
	cmd := exec.Command(binary(t), "capture", "--color", "never", "-w", path, "tcp", "port", port)
	var errb syncBuffer
	cmd.Stdout, cmd.Stderr = pw, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	// The independent count: tcpdump on the same traffic.
	tdPath := filepath.Join(dir, "tcpdump.pcap")
	td := exec.Command("tcpdump", "-n", "--immediate-mode", "-i", "lo", "-B", "65536", "-s", "128", "-w", tdPath, "tcp", "port", port)
	var tdErr syncBuffer
	td.Stderr = &tdErr
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "capturing on") || !strings.Contains(tdErr.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("captures did not start: %s / %s", errb.String(), tdErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	flood(t, ln, 1500)
	time.Sleep(500 * time.Millisecond) // the last packets reach both captures

	// Now read the lines, and stop both captures.
	go bufio.NewReader(pr).WriteTo(io.Discard)
	cmd.Process.Signal(syscall.SIGINT)
	td.Process.Signal(syscall.SIGINT)
	td.Wait()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("capture did not stop; stderr:\n%s", errb.String())
	}
	stderr := errb.String()
	noStackTrace(t, stderr)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	k := kernelRE.FindStringSubmatch(stderr)
	m := wroteRE.FindStringSubmatch(stderr)
	ns := notShownRE.FindStringSubmatch(stderr)
	if k == nil || m == nil {
		t.Fatalf("no kernel counts or 'wrote' line:\n%s", stderr)
	}
	received, _ := strconv.Atoi(k[1])
	dropped, _ := strconv.Atoi(k[2])
	wrote, _ := strconv.Atoi(m[1])
	inFile := readCapture(t, path)
	tcpdumpSaw := readCapture(t, tdPath)
	t.Logf("kernel: %d received, %d dropped; wrote %d, file %d, tcpdump %d (%s); %q", received, dropped, wrote, inFile, tcpdumpSaw, strings.ReplaceAll(strings.TrimSpace(tdErr.String()), "\n", "; "), ns)
	if dropped != 0 {
		t.Errorf("the kernel dropped %d packets while stdout was not read", dropped)
	}
	// On lo the kernel counts each packet twice (leaving and arriving;
	// libpcap keeps one copy), and also those that arrive after the stop:
	// tcpdump's count is the exact one.
	if inFile != wrote || 2*inFile > received {
		t.Errorf("file holds %d frames, the message says %d, the kernel received %d", inFile, wrote, received)
	}
	if strings.Contains(tdErr.String(), " 0 packets dropped by kernel") && inFile != tcpdumpSaw {
		t.Errorf("file holds %d frames, tcpdump saw %d of the same traffic", inFile, tcpdumpSaw)
	}
	if inFile < 1500 {
		t.Errorf("file holds %d frames, fewer than the 1500 writes of 64 KiB", inFile)
	}
	if ns == nil {
		t.Errorf("no 'not shown' line although nobody read stdout during the flood:\n%s", stderr)
	} else if n, _ := strconv.Atoi(ns[1]); n <= 0 || n >= inFile {
		t.Errorf("%d frames not shown of %d", n, inFile)
	}
}

// inNetns runs fn on a thread that has joined the named network namespace,
// so the sockets fn creates live there. The thread is never given back to
// the Go scheduler: it ends with its goroutine.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// TestCaptureInterfaceDown sets the captured interface down (not deleted)
// during a capture of real TCP traffic: one line naming it, exit 1, and a
// complete file holding every frame the kernel passed. The interface is one
// end of a veth pair between two network namespaces made for the test.
func TestCaptureInterfaceDown(t *testing.T) {
	testroot.Need(t)
	ns1 := fmt.Sprintf("tcpscope-down-a%d", os.Getpid())
	ns2 := fmt.Sprintf("tcpscope-down-b%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", ns1)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns1).Run() })
	ip("netns", "add", ns2)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns2).Run() })
	ip("-n", ns1, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", ns2)
	ip("-n", ns1, "addr", "add", "10.213.9.1/24", "dev", "v0")
	ip("-n", ns2, "addr", "add", "10.213.9.2/24", "dev", "v1")
	ip("-n", ns1, "link", "set", "v0", "up")
	ip("-n", ns2, "link", "set", "v1", "up")

	path := filepath.Join(t.TempDir(), "F.pcapng")
	r := &running{cmd: exec.Command("ip", "netns", "exec", ns1, binary(t), "capture", "--color", "never", "-i", "v0", "-w", path),
		out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan error, 1)}
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
	r.waitFor(t, "the capture to start", 10*time.Second, func() bool { return strings.Contains(r.errOut.String(), "capturing on") })

	// Real TCP traffic across the veth pair: a server in ns2, a client
	// in ns1 sending 20 chunks.
	var ln net.Listener
	if err := inNetns(ns2, func() (err error) { ln, err = net.Listen("tcp", "10.213.9.2:0"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	var c net.Conn
	if err := inNetns(ns1, func() (err error) { c, err = net.Dial("tcp", ln.Addr().String()); return }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		c.Write(bytes.Repeat([]byte("z"), 1000))
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the capture takes packets in blocks, up to 100 ms late
	ip("-n", ns1, "link", "set", "v0", "down")
	defer c.Close()

	code := r.exit(t, 10*time.Second)
	stderr := r.errOut.String()
	noStackTrace(t, stderr)
	if code != exitError {
		t.Fatalf("exit code %d after the interface went down, want 1; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last, want := lines[len(lines)-1], "tcpscope: capture on v0 stopped: the interface went down"; last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	k := kernelRE.FindStringSubmatch(stderr)
	m := wroteRE.FindStringSubmatch(stderr)
	if k == nil || m == nil {
		t.Fatalf("no kernel counts or 'wrote' line:\n%s", stderr)
	}
	received, _ := strconv.Atoi(k[1])
	dropped, _ := strconv.Atoi(k[2])
	wrote, _ := strconv.Atoi(m[1])
	inFile := readCapture(t, path)
	if inFile != wrote || inFile != received-dropped || dropped != 0 || wrote < 20 {
		t.Errorf("file %d frames, message %d, kernel %d received %d dropped", inFile, wrote, received, dropped)
	}
	if n := len(segLines(r.out.String())); n < 20 {
		t.Errorf("%d segments shown, want the 20 data segments and more", n)
	}
	if n := tsharkReads(t, path); n >= 0 && n != inFile {
		t.Errorf("tshark reads %d frames, our reader %d", n, inFile)
	}
	t.Logf("%q; %d frames in the file, kernel %d", lines[len(lines)-1], inFile, received)
}
