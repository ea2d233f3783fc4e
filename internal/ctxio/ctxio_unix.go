//go:build unix

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

// deadlineWriter writes through the poller until the context ends; after
// that, what the pipe takes at once is still written, and a write that
// would wait returns ctx.Err().
type deadlineWriter struct {
	ctx context.Context
	f   *os.File
	raw int // non-blocking descriptor of the same open file description
	// stallEnd: when a write after the signal, waiting for room that
	// does not come, gives up (zero while the reader makes progress).
	stallEnd time.Time
}

// Grace is how long a write made after the context ended waits for a
// reader that reads nothing: a program printing its last lines on Ctrl-C
// (capture's queued lines and counters) is not cut off by a reader that is
// merely slow, as long as it keeps reading, while one nobody reads ends
// the write within a fraction of a second.
const Grace = 400 * time.Millisecond

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
			d.stallEnd = time.Time{} // the reader is reading
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			// A reader that is only slow keeps making room and the
			// last lines go out; one that reads nothing for Grace
			// does not hold the exit up longer.
			if d.stallEnd.IsZero() {
				d.stallEnd = time.Now().Add(Grace)
			}
			left := time.Until(d.stallEnd)
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
