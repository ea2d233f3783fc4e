package main

import (
	"io"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/internal/pipebuf"
)

// TestStdoutPipeGrows: tcpscope writing into a pipe ("| less") asks for a
// pipe buffer of pipebuf.Size (1 MiB) instead of Linux's 64 KiB, so its
// 64 KiB writes do not each wait for the reader; the output is the same.
func TestStdoutPipeGrows(t *testing.T) {
	bin := binary(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, _ := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0); n >= pipebuf.Size {
		w.Close()
		t.Skipf("a new pipe already has %d bytes", n)
	}
	cmd := exec.Command(bin, "replay", "../../pcaps/lo-bulk-loss.pcap", "--color", "never")
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, err := io.ReadAll(r)
	if werr := cmd.Wait(); err != nil || werr != nil {
		t.Fatalf("replay: %v, %v", err, werr)
	}
	if n, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || n < pipebuf.Size {
		t.Errorf("the pipe has %d bytes (%v), want %d", n, err, pipebuf.Size)
	}
	want, err := exec.Command(bin, "replay", "../../pcaps/lo-bulk-loss.pcap", "--color", "never").Output()
	if err != nil || string(out) != string(want) {
		t.Errorf("through the pipe: %d bytes, to a file: %d (%v)", len(out), len(want), err)
	}
}

// pinPipe gives the pipe w a buffer of 32 KiB, not Linux's default, so
// tcpscope leaves it so (pipebuf.Grow): for tests of what tcpscope does
// when its stdout fills up or its reader leaves, whose outputs fit in 1 MiB.
func pinPipe(t *testing.T, w *os.File) {
	t.Helper()
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 32<<10); err != nil {
		t.Fatal(err)
	}
}
