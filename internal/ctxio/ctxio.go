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
	"time"
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
