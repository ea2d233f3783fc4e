package pipebuf

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func pipeSize(t *testing.T, f *os.File) int {
	t.Helper()
	n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGrow: a pipe's buffer grows from Linux's 64 KiB to Size; one already
// larger is not shrunk, one made smaller is not grown; a regular file is
// left alone.
func TestGrow(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if n := pipeSize(t, w); n >= Size {
		t.Skipf("a new pipe already has %d bytes", n)
	}
	if !Grow(w) {
		t.Fatal("Grow failed on a new pipe")
	}
	if n := pipeSize(t, w); n < Size {
		t.Fatalf("pipe buffer %d bytes after Grow, want %d", n, Size)
	}

	if !Grow(w) || pipeSize(t, w) != Size {
		t.Fatalf("Grow again: %d bytes, want %d", pipeSize(t, w), Size)
	}
	// A pipe made larger than Size (where the system allows it: root with
	// CAP_SYS_RESOURCE) is not shrunk.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer w2.Close()
	if _, err := unix.FcntlInt(w2.Fd(), unix.F_SETPIPE_SZ, 2*Size); err != nil {
		t.Logf("cannot make a pipe of %d bytes here (%v): not checked that Grow leaves it", 2*Size, err)
	} else if !Grow(w2) || pipeSize(t, w2) < 2*Size {
		t.Fatalf("Grow shrank a larger pipe to %d bytes", pipeSize(t, w2))
	}

	// A pipe someone made smaller is left as it is.
	r3, w3, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	defer w3.Close()
	if _, err := unix.FcntlInt(w3.Fd(), unix.F_SETPIPE_SZ, 16384); err != nil {
		t.Fatal(err)
	}
	if Grow(w3) || pipeSize(t, w3) != 16384 {
		t.Fatalf("Grow changed a pipe sized on purpose to %d bytes", pipeSize(t, w3))
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Grow(f) {
		t.Fatal("Grow said it grew a regular file")
	}
}
