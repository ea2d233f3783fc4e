//go:build unix

package ctxio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// interrupted checks that call blocks until cancel, then returns
// context.Canceled promptly.
func interrupted(t *testing.T, what string, cancel func(), call func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		t.Fatalf("%s returned before the cancel: %v", what, err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v, want context.Canceled", what, err)
		}
	case <-time.After(time.Second):
		t.Fatalf("%s still blocked a second after the cancel", what)
	}
}

func TestOpenFIFOWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	interrupted(t, "Open(fifo)", cancel, func() error {
		_, err := Open(ctx, fifo)
		return err
	})
}

func TestReaderKinds(t *testing.T) {
	// The standard streams as a shell hands them over: blocking, not
	// polled (os.NewFile), so Reader reopens the pipe.
	pr, pw, _ := os.Pipe()
	defer pw.Close()
	stdinLike := os.NewFile(uintptr(dupFd(t, pr)), "stdin")
	pr.Close()
	// A socket: read by a goroutine.
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock := os.NewFile(uintptr(fds[0]), "sock")
	defer syscall.Close(fds[1])
	for name, f := range map[string]*os.File{"pipe": stdinLike, "socket": sock} {
		ctx, cancel := context.WithCancel(context.Background())
		r, release := Reader(ctx, f)
		interrupted(t, name+" read", cancel, func() error {
			_, err := r.Read(make([]byte, 10))
			return err
		})
		release()
		f.Close()
	}
}

func TestReaderPassesData(t *testing.T) {
	pr, pw, _ := os.Pipe()
	f := os.NewFile(uintptr(dupFd(t, pr)), "stdin")
	pr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, release := Reader(ctx, f)
	defer release()
	want := bytes.Repeat([]byte("tcpscope"), 100000)
	go func() { pw.Write(want); pw.Close() }()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(want))
	}
}

func TestWriterFullPipe(t *testing.T) {
	pr, pw, _ := os.Pipe()
	defer pr.Close() // never read
	f := os.NewFile(uintptr(dupFd(t, pw)), "stdout")
	pw.Close()
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w, release := Writer(ctx, f)
	defer release()
	if w == io.Writer(f) {
		t.Fatal("Writer did not take the pipe over")
	}
	interrupted(t, "write to a full pipe", cancel, func() error {
		_, err := w.Write(make([]byte, 1<<20))
		return err
	})
}

func dupFd(t *testing.T, f *os.File) int {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	// Blocking, as a shell hands a pipe over (os.Pipe's are not).
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestWriterAfterCancel: after the signal, a write that fits in the pipe
// still goes through (a capture's last counters), one that would wait
// does not.
func TestWriterAfterCancel(t *testing.T) {
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	f := os.NewFile(uintptr(dupFd(t, pw)), "stdout")
	pw.Close()
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w, release := Writer(ctx, f)
	defer release()
	cancel()
	time.Sleep(10 * time.Millisecond)
	if n, err := w.Write([]byte("counters\n")); n != 9 || err != nil {
		t.Fatalf("small write after cancel: %d, %v", n, err)
	}
	if _, err := w.Write(make([]byte, 1<<20)); !errors.Is(err, context.Canceled) {
		t.Fatalf("big write after cancel: %v", err)
	}
	got := make([]byte, 9)
	if _, err := io.ReadFull(pr, got); err != nil || string(got) != "counters\n" {
		t.Fatalf("reader got %q, %v", got, err)
	}
}
