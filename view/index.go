package view

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// Rec is what the index keeps of one frame: where its record starts in the
// file and the analyzer's verdict in a few numbers. Everything else (ports,
// flags, length, fields, bytes) is read again from the file when the frame
// is on screen, so a 1.35 M-frame capture costs 48 bytes a frame here,
// plus its notes, compressed (see noteBlock).
type Rec struct {
	Off    int64 // file offset of the frame's record (replay.Positioned)
	Time   int64 // capture time, Unix nanoseconds
	Seq    uint32
	Ack    uint32
	Win    uint32
	Stream int32 // tcp.stream; -1 when the frame is not an analysed TCP segment
	// Ref is the frame this one refers to: the original of a
	// retransmission, the ACK a duplicate ACK repeats, the data an ACK
	// acknowledges; 0 for none. The r key jumps to it.
	Ref      int32
	Flags    analysis.Flags
	Severity analysis.Severity
	Kind     uint8 // kind* bits
}

// Kind bits of a Rec.
const (
	kindAnalyzed = 1 << iota // a TCP segment the analyzer saw
	kindProblem              // the frame could not be decoded whole
	kindClient               // sent by the client (the handshake said so)
	kindServer               // sent by the server
)

// chunkLen records make a chunk: the index grows by chunks, never by
// copying what it holds (an append-grown slice would need twice the memory
// for a moment, and 1.35 M records are 65 MB).
const chunkLen = 1 << 16

// noteBlockLen notes are compressed together. The notes repeat themselves
// ("1448 bytes of data", "acks 1448 bytes sent in #4 (rtt 12 µs)") and
// deflate takes them to a few bytes each; a screen needs one or two blocks.
const noteBlockLen = 4096

// Index is the frame index of a capture file, built in the background by
// Build while the view is already on screen. Its methods are safe for
// concurrent use.
type Index struct {
	path string
	size int64

	mu      sync.RWMutex
	chunks  [][]Rec
	n       int      // frames indexed
	blocks  [][]byte // compressed notes of complete blocks
	pending []byte   // notes of the block being filled: uvarint length + text
	first   time.Time
	pos     int64 // bytes read so far (progress)
	done    bool
	err     error
	changed chan struct{} // closed and replaced whenever frames are added

	calls []Call // socket calls shown among the frames (demo --tui), by place

	cache struct { // the last block of notes uncompressed
		block int
		notes []string
	}
}

// Build starts indexing the capture at path (a plain pcap or pcapng file:
// Spool makes one of anything else) and returns at once. The index fills
// up in the background until the end of the file, an error, or ctx ends.
func Build(ctx context.Context, path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	src, err := replay.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pos, ok := src.(replay.Positioned)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: compressed; spool it to a plain file first", path)
	}
	x := &Index{path: path, size: fi.Size(), changed: make(chan struct{})}
	x.cache.block = -1
	go func() {
		defer f.Close()
		x.run(ctx, pos)
	}()
	return x, nil
}

// offsetSource is a frame source that knows where each frame's record is
// in the file Frames reads: a capture file's reader (replay.Positioned),
// or the spool a live source is written to (see spool).
type offsetSource interface {
	frame.Source
	LastOffset() int64
}

// run reads the source to the end, analysing every frame as replay does.
func (x *Index) run(ctx context.Context, src offsetSource) {
	defer func() {
		// A bug here must not leave the screen in raw mode with a stack
		// trace over it: the view shows the error instead.
		if r := recover(); r != nil {
			x.mu.Lock()
			x.done, x.err = true, fmt.Errorf("%s: indexing stopped: %v", x.path, r)
			x.mu.Unlock()
		}
	}()
	sp, _ := src.(*spool)
	pl := pipeline.NewWith(src, analysis.New(analysis.Options{}),
		pipeline.Options{Decode: decode.DecodeOptions{SkipChecksums: true}, States: &tcpstate.Tracker{}})
	var note []byte
	batch := make([]Rec, 0, 256)
	var notes []byte
	stopped := false
	flush := func(final bool, err error) {
		stopped = final
		if sp != nil {
			if werr := sp.flush(); werr != nil && err == nil {
				final, err, stopped = true, werr, true
			}
		}
		x.mu.Lock()
		for i := range batch {
			x.add(batch[i])
		}
		x.appendNotes(notes)
		x.pos = batch0Pos(batch, x.pos)
		if final {
			x.done, x.err = true, err
			x.sealPending()
		}
		close(x.changed)
		x.changed = make(chan struct{})
		x.mu.Unlock()
		batch, notes = batch[:0], notes[:0]
	}
	last := time.Now()
	for {
		if ctx.Err() != nil {
			flush(true, ctx.Err())
			return
		}
		it, err := pl.NextRef()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			} else {
				err = fmt.Errorf("%s: %w", x.path, err)
			}
			flush(true, err)
			return
		}
		if len(batch) == 0 && x.n == 0 {
			x.mu.Lock()
			if t := it.Frame.Meta.Time; x.first.IsZero() || t.Before(x.first) {
				// (a socket call may have come first)
				x.first = t
			}
			x.mu.Unlock()
		}
		r := Rec{Off: src.LastOffset(), Time: it.Frame.Meta.Time.UnixNano(), Stream: -1}
		note = note[:0]
		switch {
		case it.Analyzed:
			res := &it.Result
			r.Kind |= kindAnalyzed
			r.Seq, r.Ack, r.Win, r.Stream = res.Seq, res.Ack, res.Win, int32(res.Stream)
			r.Flags, r.Severity = res.Flags, res.Severity
			switch {
			case res.Note.Original() != 0:
				r.Ref = int32(res.Note.Original())
			case res.DupAckFrame != 0:
				r.Ref = int32(res.DupAckFrame)
			case res.AcksFrame != 0:
				r.Ref = int32(res.AcksFrame)
			}
			if who, sure := res.Note.Sender(); sure {
				if who == "client" {
					r.Kind |= kindClient
				} else {
					r.Kind |= kindServer
				}
			}
			note = res.Note.AppendTo(note)
			note = render.AppendStates(note, it.States, len(note) > 0, false, render.Theme{})
		case it.DecodeErr != nil:
			r.Kind |= kindProblem
			note = append(note, it.DecodeErr.Error()...)
		default:
			note = append(note, notTCP(&it.Packet)...)
		}
		if it.DecodeErr != nil && it.Analyzed {
			r.Kind |= kindProblem
		}
		batch = append(batch, r)
		notes = binary.AppendUvarint(notes, uint64(len(note)))
		notes = append(notes, note...)
		// Publish in batches, and at once while the first screen fills.
		// A live source publishes every frame: the next may be long in coming.
		if sp != nil || len(batch) == cap(batch) || x.n+len(batch) <= 64 || time.Since(last) > 50*time.Millisecond {
			flush(false, nil)
			last = time.Now()
			if stopped {
				return
			}
		}
	}
}

// batch0Pos is the progress after a batch: the offset of its last record.
func batch0Pos(b []Rec, old int64) int64 {
	if len(b) == 0 {
		return old
	}
	return b[len(b)-1].Off
}

// add appends one record; x.mu is held.
func (x *Index) add(r Rec) {
	c := x.n / chunkLen
	if c == len(x.chunks) {
		x.chunks = append(x.chunks, make([]Rec, 0, chunkLen))
	}
	x.chunks[c] = append(x.chunks[c], r)
	x.n++
}

// appendNotes adds the notes of the frames just added (uvarint-prefixed),
// compressing each block as it fills; x.mu is held and x.n already counts
// them.
func (x *Index) appendNotes(b []byte) {
	first := x.n - countNotes(b)
	for len(b) > 0 {
		l, k := binary.Uvarint(b)
		end := k + int(l)
		x.pending = append(x.pending, b[:end]...)
		b = b[end:]
		first++
		if first%noteBlockLen == 0 {
			x.sealPending()
		}
	}
}

func countNotes(b []byte) int {
	n := 0
	for len(b) > 0 {
		l, k := binary.Uvarint(b)
		b = b[k+int(l):]
		n++
	}
	return n
}

// sealPending compresses the pending notes into a block; x.mu is held.
func (x *Index) sealPending() {
	if len(x.pending) == 0 {
		return
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(x.pending)
	w.Close()
	x.blocks = append(x.blocks, bytes.Clone(buf.Bytes()))
	x.pending = x.pending[:0]
}

// Call is a socket call shown among the frames, at its place in time.
type Call struct {
	Time int64 // Unix nanoseconds
	Line string
}

// addCall adds a socket call, kept in time order (the calls of two
// peers come from two tracers and may arrive out of order).
func (x *Index) addCall(at time.Time, line string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	t := at.UnixNano()
	if x.first.IsZero() || at.Before(x.first) {
		x.first = at
	}
	i := len(x.calls)
	for i > 0 && x.calls[i-1].Time > t {
		i--
	}
	x.calls = append(x.calls, Call{})
	copy(x.calls[i+1:], x.calls[i:])
	x.calls[i] = Call{Time: t, Line: line}
	close(x.changed)
	x.changed = make(chan struct{})
}

// Calls returns the socket calls from the k-th on.
func (x *Index) Calls(k int) []Call {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if k >= len(x.calls) {
		return nil
	}
	return append([]Call(nil), x.calls[k:]...)
}

// NumCalls is the number of socket calls.
func (x *Index) NumCalls() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.calls)
}

// Len is the number of frames indexed so far.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// Rec returns frame n's record (1-based); ok is false when frame n is not
// indexed (yet).
func (x *Index) Rec(n int) (Rec, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if n < 1 || n > x.n {
		return Rec{}, false
	}
	return x.chunks[(n-1)/chunkLen][(n-1)%chunkLen], true
}

// Each calls fn for frames from..to (1-based, inclusive) that are indexed,
// under the read lock: fn must not call the Index.
func (x *Index) Each(from, to int, fn func(n int, r *Rec) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	to = min(to, x.n)
	for n := max(from, 1); n <= to; n++ {
		if !fn(n, &x.chunks[(n-1)/chunkLen][(n-1)%chunkLen]) {
			return
		}
	}
}

// First is the first frame's time (time 0 of the time column).
func (x *Index) First() time.Time {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.first
}

// Progress reports how far indexing is: bytes read of the file's size,
// whether it is done, and the error that stopped it, if any.
func (x *Index) Progress() (pos, size int64, done bool, err error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.pos, x.size, x.done, x.err
}

// Changed returns a channel closed when frames are next added.
func (x *Index) Changed() <-chan struct{} {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.changed
}

// Wait blocks until the index is complete or ctx ends.
func (x *Index) Wait(ctx context.Context) error {
	for {
		x.mu.RLock()
		done, err, ch := x.done, x.err, x.changed
		x.mu.RUnlock()
		if done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Note returns frame n's note (the analyzer's words and the state changes,
// or what the frame is when it is not a TCP segment).
func (x *Index) Note(n int) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n < 1 || n > x.n {
		return ""
	}
	b := (n - 1) / noteBlockLen
	i := (n - 1) % noteBlockLen
	if b < len(x.blocks) {
		if x.cache.block != b {
			raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(x.blocks[b])))
			if err != nil {
				return ""
			}
			x.cache.block, x.cache.notes = b, splitNotes(raw, x.cache.notes[:0])
		}
		if i < len(x.cache.notes) {
			return x.cache.notes[i]
		}
		return ""
	}
	// The block being filled: walk its uncompressed notes.
	p := x.pending
	for k := 0; len(p) > 0; k++ {
		l, m := binary.Uvarint(p)
		if k == i {
			return string(p[m : m+int(l)])
		}
		p = p[m+int(l):]
	}
	return ""
}

func splitNotes(raw []byte, out []string) []string {
	for len(raw) > 0 {
		l, k := binary.Uvarint(raw)
		out = append(out, string(raw[k:k+int(l)]))
		raw = raw[k+int(l):]
	}
	return out
}

// notTCP says in a few words what a frame that is no TCP segment is.
func notTCP(p *decode.Packet) string {
	switch {
	case p.TCPHeaderTruncated:
		return "TCP header cut short by the snaplen"
	case p.Fragment:
		return "IP fragment (the TCP header is in another frame)"
	case p.IPVersion != 0:
		return fmt.Sprintf("IPv%d, protocol %d: not TCP", p.IPVersion, p.Proto)
	}
	return fmt.Sprintf("EtherType 0x%04x: not IP", p.Link.EtherType)
}

// Frames reads frames again from the file, at the offsets the index gives.
// It belongs to one goroutine (the screen's). A live spool has no header
// until its first frame: the file is opened at the first Read.
type Frames struct {
	path string
	f    *os.File
	src  replay.Positioned
	br   *bufio.Reader
	at   int // number of the frame the next Next reads; 0 = unknown
}

// OpenFrames opens path for reading frames at their offsets.
func OpenFrames(path string) (*Frames, error) {
	fr := &Frames{path: path}
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if st.Size() == 0 {
		return fr, nil // a live spool, opened at the first Read
	}
	return fr, fr.open()
}

func (fr *Frames) open() error {
	path := fr.path
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	src, err := replay.NewReader(f)
	if err != nil {
		f.Close()
		return err
	}
	pos, ok := src.(replay.Positioned)
	if !ok {
		f.Close()
		return fmt.Errorf("%s: not a plain capture file", path)
	}
	// A pcapng reader learns the interfaces from the blocks before the
	// first packet: read it once so that it knows them.
	if _, err := pos.Next(); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return err
	}
	fr.f, fr.src, fr.br = f, pos, bufio.NewReaderSize(nil, 64<<10)
	return nil
}

// Close closes the file.
func (fr *Frames) Close() error {
	if fr.f == nil {
		return nil
	}
	return fr.f.Close()
}

// Read returns frame n, whose record starts at off; the frame's bytes are
// valid until the next Read. Reading frames in order does not seek.
func (fr *Frames) Read(n int, off int64) (frame.Frame, error) {
	if fr.f == nil {
		if err := fr.open(); err != nil {
			return frame.Frame{}, err
		}
	}
	if fr.at != n {
		fr.br.Reset(io.NewSectionReader(fr.f, off, 1<<62))
		fr.src.Resume(fr.br, off, n)
	}
	f, err := fr.src.Next()
	if err != nil {
		fr.at = 0
		return frame.Frame{}, err
	}
	fr.at = n + 1
	return f, nil
}
