package capture

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/tcpscope/tcpscope/frame"
)

// DefaultDisplayQueue bounds the frames a Recorder holds for a display that
// has fallen behind: 16 MiB of frame bytes, and at most 65,536 frames.
const DefaultDisplayQueue = 16 << 20

const maxQueuedFrames = 1 << 16

// FrameWriter is where a capture's frames go: one file (*Writer) or a
// sequence of files (*Rotating, for -C/-W/-G).
type FrameWriter interface {
	Write(frame.Frame) error
	WriteCommented(f frame.Frame, comment string) error // pcapng: the comment goes with the frame
	Close() error
	Count() int   // frames written
	Name() string // the (current) file
}

var (
	_ FrameWriter = (*Writer)(nil)
	_ FrameWriter = (*Rotating)(nil)
)

// Recorder writes every frame of a live capture to a file at once, in its
// own goroutine, and passes copies of the frames on to the display (the
// analysis and the lines on stdout) through a bounded queue. It is the
// frame.Source the display reads.
//
// Writing the file must never wait for the display: when stdout is a pipe
// to a slow reader, a capture whose file waited for stdout left the kernel's
// buffer full and lost packets from the file too (619 frames written while
// the kernel dropped 107,891). Here the display may fall behind; once the
// queue is full, frames are written but not shown, and NotShown counts them
// for the closing message.
//
// A write error (disk full) stops the capture, as with Tee: the display
// gets the frames queued so far, then io.EOF, and Err reports the error.
// A read error of the source (the interface went away) reaches the display
// after the queued frames.
type Recorder struct {
	src frame.Source
	w   FrameWriter

	q        chan frame.Frame
	budget   atomic.Int64 // frame bytes the queue may still take
	notShown atomic.Int64
	done     chan struct{}
	srcErr   error // set before q is closed
	err      error // write error, set before q is closed

	// annotate, when set, gives each frame's packet comment (the
	// analyzer's note, for pcapng files).
	annotate func(frame.Frame) string

	prev []byte // the frame the display holds, returned on its next call
	pool sync.Pool
}

// NewRecorder starts recording src to w; queueBytes bounds the frame bytes
// waiting for the display (0 means DefaultDisplayQueue). The Writer is
// closed when the source ends or a write fails, so the file is complete
// even if the display never catches up; Close it again to learn its error.
func NewRecorder(src frame.Source, w FrameWriter, queueBytes int) *Recorder {
	return NewAnnotatingRecorder(src, w, queueBytes, nil)
}

// NewAnnotatingRecorder is NewRecorder that writes each frame with the
// comment annotate gives it (nil: none), in the recording goroutine.
func NewAnnotatingRecorder(src frame.Source, w FrameWriter, queueBytes int, annotate func(frame.Frame) string) *Recorder {
	if queueBytes <= 0 {
		queueBytes = DefaultDisplayQueue
	}
	r := &Recorder{src: src, w: w, annotate: annotate, q: make(chan frame.Frame, maxQueuedFrames), done: make(chan struct{})}
	r.budget.Store(int64(queueBytes))
	go r.run()
	return r
}

func (r *Recorder) run() {
	defer close(r.done)
	defer close(r.q)
	defer r.w.Close()
	for {
		f, err := r.src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.srcErr = err
			}
			return
		}
		if r.annotate != nil {
			err = r.w.WriteCommented(f, r.annotate(f))
		} else {
			err = r.w.Write(f)
		}
		if err != nil {
			r.err = err
			return
		}
		n := int64(len(f.Data))
		full := len(r.q) == cap(r.q)
		if !full && r.budget.Add(-n) < 0 {
			r.budget.Add(n)
			full = true
		}
		if full {
			r.notShown.Add(1)
			continue
		}
		var buf []byte
		if p, ok := r.pool.Get().(*[]byte); ok && cap(*p) >= len(f.Data) {
			buf = (*p)[:len(f.Data)]
		} else {
			buf = make([]byte, len(f.Data))
		}
		copy(buf, f.Data)
		f.Data = buf
		r.q <- f // never blocks: only this goroutine sends, and there was room
	}
}

// Next returns the next frame for the display; its bytes are valid until
// the next call.
func (r *Recorder) Next() (frame.Frame, error) {
	if r.prev != nil {
		r.budget.Add(int64(len(r.prev)))
		p := r.prev
		r.pool.Put(&p)
		r.prev = nil
	}
	f, ok := <-r.q
	if !ok {
		<-r.done
		if r.srcErr != nil {
			return frame.Frame{}, r.srcErr
		}
		return frame.Frame{}, io.EOF
	}
	r.prev = f.Data
	return f, nil
}

// Wait waits until recording has ended (the source ended or a write
// failed) and the file is closed.
func (r *Recorder) Wait() { <-r.done }

// Err returns the write error that stopped the capture, if any; call it
// after Next returned an error or after Wait.
func (r *Recorder) Err() error { return r.err }

// NotShown counts the frames written to the file but dropped from the
// display because it had fallen behind.
func (r *Recorder) NotShown() int { return int(r.notShown.Load()) }

var _ frame.Source = (*Recorder)(nil)
