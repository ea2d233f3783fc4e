// Package ctxio makes the blocking points of reading a capture and writing
// the output obey a context, so that Ctrl-C or SIGTERM stops tcpscope at
// once wherever it waits: opening a FIFO that has no writer yet, reading a
// pipe whose writer is silent ("sleep 30 | tcpscope replay -"), inflating a
// gzip stream, writing to a pipe nobody reads.
//
// A read or write blocked in the kernel does not return because a context
// was cancelled. Go's poller can interrupt it, with a deadline, but only for
// descriptors it polls: pipes, FIFOs and terminals that os.Open opened, not
// the inherited standard streams (os.Stdin is left blocking, as the shell
// gave it). So:
//
//   - a FIFO or device is opened in a goroutine that is abandoned when the
//     context ends (open(2) on a FIFO waits for a writer and no poller can
//     wake it);
//   - a standard stream that is a pipe is opened again through
//     /proc/self/fd/N with O_NONBLOCK: a new open file description of the
//     same pipe, so putting it in non-blocking mode for the poller does not
//     change the description the shell and other processes share;
//   - a polled file gets a deadline in the past when the context ends,
//     which makes the blocked call return;
//   - whatever cannot be polled (a socket on stdin) is read by a goroutine,
//     abandoned when the context ends;
//   - a regular file never blocks for long: its reads just check the
//     context, which bounds the work a decompressor does between checks to
//     one buffer of compressed input.
//
// Every interrupted call returns the context's error, so a command can tell
// "stopped by a signal" from a read error and exit quietly.
package ctxio

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// past is the deadline that makes a blocked call on a polled file return.
var past = time.Unix(1, 0)

// Open opens path for reading. A FIFO or device, whose open may wait for a
// writer, is opened in a goroutine: when ctx ends first, Open returns
// ctx.Err() and the file, if the open ever completes, is closed.
func Open(ctx context.Context, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err != nil || fi.Mode().IsRegular() || fi.IsDir() || ctx.Done() == nil {
		return os.Open(path)
	}
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		ch <- result{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.f != nil {
				r.f.Close()
			}
		}()
		return nil, &os.PathError{Op: "open", Path: path, Err: ctx.Err()}
	}
}

// Reader returns a reader of r whose Read returns ctx.Err() once ctx ends,
// even when it was blocked. release frees what Reader set up (a reopened
// descriptor, a context watcher); it does not close r.
func Reader(ctx context.Context, r io.Reader) (_ io.Reader, release func()) {
	if ctx.Done() == nil {
		return r, func() {}
	}
	f, ok := r.(*os.File)
	if !ok {
		return &checkReader{ctx: ctx, r: r}, func() {}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return &checkReader{ctx: ctx, r: f}, func() {}
	}
	if f.SetReadDeadline(time.Time{}) == nil {
		stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(past) })
		return &deadlineReader{ctx: ctx, f: f}, func() { stop() }
	}
	if rf := reopen(f, unix.O_RDONLY); rf != nil {
		stop := context.AfterFunc(ctx, func() { rf.SetReadDeadline(past) })
		return &deadlineReader{ctx: ctx, f: rf}, func() { stop(); rf.Close() }
	}
	return &goReader{ctx: ctx, r: f}, func() {}
}

// Writer returns a writer to f whose Write returns ctx.Err() once ctx ends,
// even when it was blocked on a full pipe. Only pipes and FIFOs are
// changed (a file or terminal is returned as it is, as is f when the
// context can never end); release closes what Writer opened, not f.
func Writer(ctx context.Context, f *os.File) (_ io.Writer, release func()) {
	var st unix.Stat_t
	if ctx.Done() == nil || unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return f, func() {}
	}
	wf := reopen(f, unix.O_WRONLY)
	if wf == nil {
		return f, func() {}
	}
	// A second descriptor of the same (non-blocking) description, for
	// the writes after the signal: they must not wait, but what fits in
	// the pipe still goes out (a capture prints its counters on Ctrl-C).
	raw, err := unix.Dup(int(wf.Fd()))
	if err != nil {
		wf.Close()
		return f, func() {}
	}
	unix.CloseOnExec(raw)
	stop := context.AfterFunc(ctx, func() { wf.SetWriteDeadline(past) })
	return &deadlineWriter{ctx: ctx, f: wf, raw: raw}, func() { stop(); wf.Close(); unix.Close(raw) }
}

// reopen opens f's pipe again through /proc/self/fd, non-blocking, so that
// Go's poller takes it; nil when that is not possible (not Linux, not a
// pipe, no reader left for a writer) or the new file is not the same pipe.
func reopen(f *os.File, mode int) *os.File {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	name := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	nf, err := os.OpenFile(name, mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var nst unix.Stat_t
	if unix.Fstat(int(nf.Fd()), &nst) != nil || nst.Dev != st.Dev || nst.Ino != st.Ino || nf.SetDeadline(time.Time{}) != nil {
		nf.Close()
		return nil
	}
	return nf
}

type checkReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *checkReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type deadlineReader struct {
	ctx context.Context
	f   *os.File
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := d.f.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && d.ctx.Err() != nil {
		err = d.ctx.Err()
	}
	return n, err
}

// deadlineWriter writes through the poller until the context ends; after
// that, what the pipe takes at once is still written, and a write that
// would wait returns ctx.Err().
type deadlineWriter struct {
	ctx context.Context
	f   *os.File
	raw int // non-blocking descriptor of the same open file description
	// graceEnd: when writes after the signal stop waiting for room.
	graceEnd time.Time
}

// Grace is how long, in all, the writes made after the context ended may
// wait for a slow reader to make room in the pipe, so that a program
// printing its last lines on Ctrl-C (capture's counters) is not cut off by
// a reader that is merely behind, while one nobody reads still ends within
// a fraction of a second.
const Grace = 300 * time.Millisecond

func (d *deadlineWriter) Write(p []byte) (int, error) {
	n := 0
	if d.ctx.Err() == nil {
		var err error
		n, err = d.f.Write(p)
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || d.ctx.Err() == nil {
			return n, err
		}
	}
	for n < len(p) {
		m, err := unix.Write(d.raw, p[n:])
		if m > 0 {
			n += m
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			// A reader that is only slow gets a moment to make room
			// (the whole write, after the signal, within Grace); one
			// that reads nothing does not hold the exit up longer.
			if d.graceEnd.IsZero() {
				d.graceEnd = time.Now().Add(Grace)
			}
			left := time.Until(d.graceEnd)
			if left <= 0 {
				return n, d.ctx.Err()
			}
			fds := []unix.PollFd{{Fd: int32(d.raw), Events: unix.POLLOUT}}
			unix.Poll(fds, int(left/time.Millisecond)+1)
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: d.f.Name(), Err: err}
		}
	}
	return n, nil
}

// goReader reads in a goroutine of its own, into its own buffer, so that a
// Read can give up when ctx ends while the goroutine stays blocked; after
// that every Read returns ctx.Err() and the buffer is never touched again.
type goReader struct {
	ctx     context.Context
	r       io.Reader
	res     chan goResult
	pending bool
	buf     []byte
}

type goResult struct {
	n   int
	err error
}

func (g *goReader) Read(p []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !g.pending {
		if g.res == nil {
			g.res = make(chan goResult, 1)
		}
		if cap(g.buf) < len(p) {
			g.buf = make([]byte, min(len(p), 1<<20))
		}
		buf := g.buf[:min(len(p), cap(g.buf))]
		g.pending = true
		go func() {
			n, err := g.r.Read(buf)
			g.res <- goResult{n, err}
		}()
	}
	select {
	case r := <-g.res:
		g.pending = false
		copy(p, g.buf[:r.n])
		return r.n, r.err
	case <-g.ctx.Done():
		return 0, g.ctx.Err()
	}
}
