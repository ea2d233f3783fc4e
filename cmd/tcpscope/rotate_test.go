package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/replay"
)

// sendBytes pushes n bytes through a loopback connection to port.
func sendBytes(t *testing.T, port, n int) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 32<<10)
	for sent := 0; sent < n; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
}

// countFile counts the frames of a capture file.
func countFile(t *testing.T, path string) int {
	t.Helper()
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for {
		if _, err := f.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n++
	}
}

// TestCaptureRotation: -C 1 -W 2 keeps a ring of two files of about a
// million bytes, named as tcpdump names them; -G 1 -W 2 stops by itself,
// exit 0, after two files.
func TestCaptureRotation(t *testing.T) {
	testroot.Need(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	run1 := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		done := make(chan int)
		go func() { done <- run(append([]string{"tcpscope", "capture"}, args...), nil, &out, &errb) }()
		time.Sleep(300 * time.Millisecond)
		// Traffic until the capture stops (like tcpdump, it rotates and
		// stops only when a packet comes).
		deadline := time.After(15 * time.Second)
		for {
			select {
			case code := <-done:
				return errb.String(), code
			case <-deadline:
				t.Fatalf("capture %q did not stop", args)
			default:
				sendBytes(t, port, 1<<20)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	ring := filepath.Join(dir, "ring")
	errs, code := run1("-w", ring, "-C", "1", "-W", "2", "-c", "60", "tcp", "port", strconv.Itoa(port))
	if code != 0 {
		t.Fatalf("-C 1 -W 2: exit %d: %s", code, errs)
	}
	for _, n := range []string{"ring0", "ring1"} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || fi.Size() > 1000000+70000 {
			t.Errorf("%s: %v %v", n, err, fi)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ring2")); err == nil {
		t.Error("a third file in a ring of two")
	}
	if !strings.Contains(errs, "to 2 files (") {
		t.Errorf("stderr: %s", errs)
	}
	timed := filepath.Join(dir, "t-%s")
	errs, code = run1("-w", timed, "-G", "1", "-W", "2", "tcp", "port", strconv.Itoa(port))
	if code != 0 {
		t.Fatalf("-G 1 -W 2: exit %d: %s", code, errs)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "t-*"))
	if len(m) != 2 {
		t.Errorf("-G 1 -W 2 made %q", m)
	}
	total := 0
	for _, f := range m {
		total += countFile(t, f)
	}
	if total == 0 {
		t.Error("no frames in the -G files")
	}
}
