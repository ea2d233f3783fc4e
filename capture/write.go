package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/safefile"
)

// bufSize is the write buffer: one write(2) per 64 KiB, not per frame.
const bufSize = 1 << 16

// Writer writes frames to a pcap file (nanosecond timestamps) or, when the
// name ends in .pcapng, to a pcapng file. Close flushes and must be called
// for the file to be complete.
//
// A write can fail half way through a record (the disk fills, a quota is
// reached): the file would then end in a truncated record that readers
// report as corrupt. So the Writer knows where every whole record ends and,
// on the first failure, cuts the file back to the last record that reached
// it completely; the file stays valid, and later Writes return the same
// error.
type Writer struct {
	f    File
	name string
	cw   countingWriter // bytes that reached f
	bw   *bufio.Writer
	// rec receives one record at a time from the pcapgo writers, so its
	// exact length is known before it goes to bw.
	rec  bytes.Buffer
	pcap *pcapgo.Writer
	ng   *pcapgo.NgWriter
	// logical is the file offset after everything handed to bw, count the
	// frames in it; ends lists the records still (partly) in bw, ascending;
	// durable is the largest record end known to be in f.
	logical, durable     int64
	count, durableFrames int
	ends                 []recordEnd
	err                  error // first write error; the Writer is dead after it
	closed               bool
	scratch              []byte // WriteCommented's block, reused
}

// recordEnd is where a record ends in the file, and how many frames the
// file holds up to there.
type recordEnd struct {
	off    int64
	frames int
}

// File is what a Writer writes to: an *os.File, or in tests a file that
// fails on demand.
type File interface {
	io.Writer
	Truncate(size int64) error
	Close() error
}

// countingWriter counts the bytes its writer accepted, including those of
// a short write that then failed.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Create creates path for frames of link type lt, by safefile's rules:
// never through a symlink, an existing regular file only with force
// (replaced, not truncated), a device such as /dev/null as it is.
func Create(path string, lt frame.LinkType, snaplen int, force bool) (*Writer, error) {
	f, err := safefile.Create(path, force)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, path, lt, snaplen)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// NewStreamWriter writes a pcap capture to w, a stream such as standard
// output: nothing can be cut back there, so a failed write leaves what was
// written (a reader such as Wireshark stops at the last whole record).
func NewStreamWriter(w io.Writer, lt frame.LinkType, snaplen int) (*Writer, error) {
	return NewWriter(streamFile{w}, "-", lt, snaplen)
}

// streamFile is a File that cannot be truncated or closed by the Writer:
// standard output belongs to the process.
type streamFile struct{ io.Writer }

func (streamFile) Truncate(int64) error { return nil }
func (streamFile) Close() error         { return nil }

// NewWriter writes a capture to f, which starts empty; name labels errors
// and, by its extension, chooses pcapng (.pcapng) or pcap.
func NewWriter(f File, name string, lt frame.LinkType, snaplen int) (*Writer, error) {
	w := &Writer{f: f, name: name}
	w.cw.w = f
	w.bw = bufio.NewWriterSize(&w.cw, bufSize)
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	var err error
	if strings.HasSuffix(name, ".pcapng") {
		// One interface (index 0): gopacket's NgWriter rejects the OS
		// interface index a live handle reports, so frames are written
		// with InterfaceIndex 0.
		w.ng, err = pcapgo.NewNgWriterInterface(&w.rec, pcapgo.NgInterface{
			Name: "tcpscope", LinkType: layers.LinkType(lt), SnapLength: uint32(snaplen),
			TimestampResolution: 9,
		}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "tcpscope"}})
		if err == nil {
			err = w.ng.Flush() // its own buffer, into rec
		}
	} else {
		w.pcap = pcapgo.NewWriterNanos(&w.rec)
		err = w.pcap.WriteFileHeader(uint32(snaplen), layers.LinkType(lt))
	}
	if err == nil {
		// The file header is a record too: a file cut back to nothing
		// would not be a capture at all.
		err = w.commit(0)
	}
	if err != nil {
		return nil, w.fail(err)
	}
	return w, nil
}

// Write appends one frame.
func (w *Writer) Write(f frame.Frame) error {
	if w.err != nil {
		return w.err
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Meta.Time, CaptureLength: len(f.Data), Length: f.Meta.OrigLen}
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	var err error
	if w.ng != nil {
		if err = w.ng.WritePacket(ci, f.Data); err == nil {
			err = w.ng.Flush()
		}
	} else {
		err = w.pcap.WritePacket(ci, f.Data)
	}
	if err != nil {
		// Refused before any byte went out (a length pcap cannot hold):
		// the file is unharmed.
		w.rec.Reset()
		return fmt.Errorf("write %s: %v", w.name, err)
	}
	if err := w.commit(1); err != nil {
		return w.fail(err)
	}
	return nil
}

// commit moves the record in rec, holding frames frames, to bw. bw is
// flushed only between records, so a flush that fails has a list of the
// record ends it covered.
func (w *Writer) commit(frames int) error {
	n := w.rec.Len()
	if w.bw.Buffered() > 0 && w.bw.Available() < n {
		if err := w.flush(); err != nil {
			return err
		}
	}
	// A record larger than the buffer goes straight to the file in one
	// write; otherwise it is copied into the buffer.
	_, err := w.bw.Write(w.rec.Bytes())
	w.rec.Reset()
	w.logical += int64(n)
	w.count += frames
	w.ends = append(w.ends, recordEnd{w.logical, w.count})
	if err != nil {
		return err
	}
	if w.bw.Buffered() == 0 {
		w.settled()
	}
	return nil
}

// flush writes out bw; every record in it is then durable.
func (w *Writer) flush() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	w.settled()
	return nil
}

// settled notes that everything handed to bw is in the file.
func (w *Writer) settled() {
	w.durable, w.durableFrames, w.ends = w.logical, w.count, w.ends[:0]
}

// fail records err, and cuts the file back to the last record that reached
// it whole: the largest record end not beyond the bytes the file accepted.
func (w *Writer) fail(err error) error {
	keep, frames := w.durable, w.durableFrames
	for _, e := range w.ends {
		if e.off <= w.cw.n {
			keep, frames = e.off, e.frames
		}
	}
	w.ends = w.ends[:0]
	w.durable, w.durableFrames, w.count = keep, frames, frames
	w.err = fmt.Errorf("write %s: %v", w.name, unwrapPath(err))
	if keep < w.cw.n {
		if terr := w.f.Truncate(keep); terr != nil {
			w.err = fmt.Errorf("write %s: %v (and cutting the partial record off failed: %v)", w.name, unwrapPath(err), unwrapPath(terr))
		}
	}
	return w.err
}

// unwrapPath drops *os.PathError's "write /path:" prefix: the messages
// here name the file themselves.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Count returns the frames written so far (after a write error: those the
// file holds whole).
func (w *Writer) Count() int { return w.count }

// Name returns the file's path.
func (w *Writer) Name() string { return w.name }

// Size returns the length of the valid file: after a write error, the
// offset it was cut back to.
func (w *Writer) Size() int64 {
	if w.err != nil {
		return w.durable
	}
	return w.logical
}

// Err returns the first write error, if any.
func (w *Writer) Err() error { return w.err }

// Close flushes buffered frames and closes the file. After a write error it
// returns that error: the file is closed, valid up to its last whole frame.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		if err := w.flush(); err != nil {
			w.fail(err)
		}
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("write %s: %v", w.name, unwrapPath(err))
	}
	return w.err
}

// Tee is a frame.Source that writes every frame it passes on.
//
// When a write fails (disk full, quota) the capture stops: Next records the
// error in Err and returns io.EOF, so the caller ends as at Ctrl-C and then
// reports Err. Going on would show traffic the user believes is being saved.
type Tee struct {
	Src frame.Source
	W   *Writer
	Err error // the write error that stopped the capture, if any
	// Annotate, when set, gives each frame's packet comment (pcapng).
	Annotate func(frame.Frame) string
}

// Next reads a frame from Src and writes it to W.
func (t *Tee) Next() (frame.Frame, error) {
	if t.Err != nil {
		return frame.Frame{}, io.EOF
	}
	f, err := t.Src.Next()
	if err == nil && t.W != nil {
		var werr error
		if t.Annotate != nil {
			werr = t.W.WriteCommented(f, t.Annotate(f))
		} else {
			werr = t.W.Write(f)
		}
		if werr != nil {
			t.Err = werr
			return frame.Frame{}, io.EOF
		}
	}
	return f, err
}

var _ frame.Source = (*Tee)(nil)
var _ frame.Source = (*Handle)(nil)
var _ io.Closer = (*Writer)(nil)
var _ File = (*os.File)(nil)
