package pipeline

import (
	"errors"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/prefault"
)

// Batching of the parallel pipeline. A batch is handed from the reading
// goroutine to the caller in one channel operation, so the cost of the
// hand-off (and of waking the other goroutine) is shared by many frames.
//
// batchFrames was 256, then 512: that made replay of make bench's
// bulk.pcap 6 % faster (0.68 -> 0.64 s; fewer hand-offs and fewer waits
// between the three goroutines) for 3.6 MB more peak RSS. 1024 was slower
// on big.pcap (0.69 -> 1.00 s: the batches in flight no longer fit the
// caches), 64 slower everywhere (0.74 -> 0.96 s), and 512 with only two
// batches in flight gained nothing. Since the analysing goroutine decodes
// (DecodeLate) and the reader copies heads only, a batch's items are
// written by one core and read by another, and 512 items of 1.3 KB no
// longer stay in a core's cache between the two (1 MiB of L2 here): back
// to 256, stats took 10 % less CPU on both bench captures (medians of 11
// alternating runs: bulk.pcap 0.65 -> 0.59 s, big.pcap 0.58 -> 0.52),
// replay --json 5 % (big.pcap 0.88 -> 0.84), replay's text lines as much
// either way as runs vary, and peak RSS went down 3.5 to 4 MB; 128 was
// slower again (stats of bulk.pcap 0.57 -> 0.61 s).
const (
	batchFrames = 256       // frames per batch
	batchBytes  = 512 << 10 // arena bytes per batch before it is sent early
	batchesLive = 3         // batches in flight: bounds memory to ~4×(arena+items)
	arenaSlack  = 64 << 10  // a frame larger than what is left starts a new batch
	// maxFrame is the largest frame a capture file holds (libpcap's
	// MAXIMUM_SNAPLEN, replay.MaxFrame): an Appender's batch is sent when
	// less room than that is left.
	maxFrame = 262144
)

// batch is a run of decoded frames whose bytes live in arena.
type batch struct {
	items []Item
	arena []byte
	err   error // the source's error after the last item (io.EOF at the end)
	late  bool  // its items are left for the analysing goroutine to decode
	// frames, with late and a frame.HeadBatcher source, holds the items'
	// frames as the reader read them: the analysing goroutine copies each
	// into its item as it decodes it. The reader then writes nothing of
	// the items, 1.3 KB each, whose lines the other core wrote last (the
	// batch's previous trip), and only frames' 104 bytes a frame, which
	// stay in its own cache from one batch to the next.
	frames []frame.Frame
}

// parallel is the state of a pipeline whose reading and decoding run on a
// goroutine of their own, a few batches ahead of the analysis and of
// whatever the caller does with each item (rendering): on two cores the two
// halves overlap. (The analysis once ran on the reading side too, for JSON,
// whose rendering was the heavier half; since files are read through a
// memory map, reading is cheap enough that the analysis belongs with the
// caller in every case, and the option went.) Frames are copied out of the
// source's buffer into the batch's arena, because the source may reuse its
// buffer at its next call.
type parallel struct {
	full chan *batch   // decoded batches, in capture order
	free chan *batch   // batches the caller is done with
	stop chan struct{} // closed by Close: the reader gives up
	// tries is how often a hand-off polls before it blocks (handoff.go).
	tries int
	// ready, with Options.AnalysisStage, carries batches from the analysing
	// goroutine (which reads full) to the caller; nil otherwise.
	ready chan *batch
	// late, when set, gives the bytes past a frame's head when decoding
	// needs them, from a second window (frame.TailReader): the reader
	// copied heads only, and decodes them later (decodeLate), on the
	// analysing goroutine (lateStage: Options.DecodeLate) or on its own
	// after reading a batch of heads (a frame.HeadBatcher source).
	late      frame.TailReader
	lateStage bool
	// whereIdle (Options.DecodeWhereIdle): each batch of heads is decoded
	// by the reader or left to the analysing goroutine (batch.late),
	// whichever is idle; lateBatches and hereBatches count them.
	whereIdle                bool
	lateBatches, hereBatches int
	sumHeads                 bool // NextHeads adds up each frame's rest (exact verdicts)
	cur                      *batch
	i                        int
	err                      error
	done                     bool
}

// NewParallel returns a pipeline like New whose reading and decoding run on
// a separate goroutine, overlapping with the analysis and the caller's work
// on the previous frames. Items are the same, in the same order. Call Close
// when done, also after an error or early stop, so the goroutine ends.
//
// It is meant for files: frames are handed on in batches, so a frame of a
// live capture or a pipe would wait for the batch to fill, and Close waits
// for the source's current Next call to return.
func NewParallel(src frame.Source, an *analysis.Analyzer) *Pipeline {
	return NewWith(src, an, Options{Parallel: true})
}

// startParallel starts the reading goroutine of a parallel pipeline (and
// the analysing one, with Options.AnalysisStage).
func (p *Pipeline) startParallel(stage, late, whereIdle bool) {
	n := batchesLive + 1
	if stage {
		n += batchesLive // the analysing goroutine's queue
	}
	par := &parallel{
		full:  make(chan *batch, batchesLive),
		free:  make(chan *batch, n),
		stop:  make(chan struct{}),
		tries: pollTries(),
	}
	for i := 0; i < n; i++ {
		// Written once now, before anything reads it: a page of fresh
		// memory that is read first (by the garbage collector, or by the
		// write barrier of a clear while it marks) is mapped to the
		// kernel's shared zero page, and the first write then copies it
		// and flushes the other core's TLB with an interrupt, which costs
		// a VM tens of microseconds (internal/prefault). With the same done
		// to the analyzer's and the stats table's new memory, the TLB
		// shootdowns of stats on bench/big.pcap went from ~1 800 to ~800
		// (/proc/interrupts) and its CPU time down 9 %; replay's 3 %. With
		// prefault.Pages instead of clear (no barrier), replay's went from
		// ~670 to ~400 (4 MiB windows): 1 % less CPU.
		items := make([]Item, batchFrames)
		prefault.Pages(items)
		b := &batch{items: items[:0], arena: make([]byte, 0, batchBytes+max(arenaSlack, maxFrame))}
		if _, ok := p.src.(frame.HeadBatcher); ok && p.heads {
			b.frames = make([]frame.Frame, batchFrames)
		}
		par.free <- b
	}
	p.par = par
	if stage {
		par.ready = make(chan *batch, batchesLive)
		// Headers only from a source that can give the rest later from
		// any goroutine: the reader just copies heads, and decoding moves
		// to the analysing goroutine (DecodeLate, see decodeLate), or goes
		// batch by batch to whichever of the two is idle (DecodeWhereIdle).
		tr, ok := p.src.(frame.TailReader)
		_, batches := p.src.(frame.HeadBatcher)
		switch {
		case ok && p.heads && late:
			par.late, par.lateStage = tr, true
		case ok && batches && p.heads && whereIdle:
			// With exact verdicts, the reader still sums each frame's rest
			// as it reads it (see below), wherever the batch is decoded.
			par.late, par.whereIdle = tr, true
			par.sumHeads = !p.dopts.SkipChecksums && !p.dopts.BadChecksumsOnly
		}
	}
	if hb, ok := p.src.(frame.HeadBatcher); ok && p.heads && par.late == nil {
		// Heads a batch at a time, decoded after each batch is read, the
		// rest of a frame read or summed from the second window when
		// needed (the same work as frame by frame, for less per frame).
		// When every checksum is verified exactly (JSON, -v), each
		// frame's rest is summed as it is read (NextHeads's sum): through
		// the second window, every page of the file would be mapped twice.
		par.late = hb
		par.sumHeads = !p.dopts.SkipChecksums && !p.dopts.BadChecksumsOnly
	}
	go par.read(p)
	if stage {
		go par.analyzeAll(p)
	}
}

// decodeAnalyze decodes (decodeLate) and analyses items in order; on an
// error it returns how many were done. frames, when not nil, holds the
// items' frames (batch.frames).
func (p *Pipeline) decodeAnalyze(items []Item, frames []frame.Frame) (int, error) {
	for i := range items {
		x := &items[i]
		if frames != nil {
			x.Frame = frames[i]
		}
		if err := p.decodeLate(x); err != nil {
			return i, err
		}
		p.analyze(x)
	}
	return len(items), nil
}

// decodeLate decodes an item whose head the reader copied without
// decoding it (Options.DecodeLate), on the analysing goroutine: the reader,
// the slowest of the three stages for stats, is left with the reading, and
// the item's decoded fields are written on the core that reads them next.
// A checksum
// that needs the payload's sum, and a frame that needs all its bytes
// (headers deeper than the head, a fragment, not TCP), get them from the
// source's second window.
func (p *Pipeline) decodeLate(x *Item) error {
	tr := p.par.late
	p.decodeItem(x)
	if p.needsTailSum(x) {
		sum, err := tr.SumTail(x.Frame)
		if err != nil {
			return err
		}
		addTailSum(x, sum)
	}
	if x.Frame.Tail.Off > 0 && !p.headDecoded(x) {
		if err := tr.ReadTail(x.Frame); err != nil {
			return err
		}
		x.Frame.Tail = frame.Tail{}
		p.decodeItem(x)
	}
	p.decodeRest(x)
	return nil
}

// analyzeAll runs on a goroutine of its own (Options.AnalysisStage): it
// analyses each batch the reader decoded, in order, and hands it on to the
// caller, until the reader is done or Close is called.
func (par *parallel) analyzeAll(p *Pipeline) {
	defer close(par.ready)
	failed := false
	for {
		b, ok, _ := recvBatch(par.full, nil, par.tries)
		if !ok {
			return
		}
		if failed {
			par.free <- b // after an error, only let the reader go on to its end
			continue
		}
		if !par.lateStage && !b.late {
			for i := range b.items {
				p.analyze(&b.items[i])
			}
		} else if n, err := p.decodeAnalyze(b.items, b.lateFrames()); err != nil {
			b.items, b.err, failed = b.items[:n], err, true
		}
		if !sendBatch(par.ready, b, par.stop, par.tries) {
			for range par.full { // let the reader leave
			}
			return
		}
	}
}

// Close stops the reading goroutine of a parallel pipeline (a no-op for a
// sequential one). It does not close the source.
func (p *Pipeline) Close() {
	if p.par == nil || p.par.done {
		return
	}
	p.par.done = true
	close(p.par.stop)
	// Wait for the reader (and the analyser) to leave, so the caller may
	// close the source and read the analyzer.
	if p.par.ready != nil {
		for range p.par.ready {
		}
		return
	}
	for range p.par.full {
	}
}

// read runs on its own goroutine: it fills batches from the source and
// sends them to the caller, until the source ends or Close is called.
func (par *parallel) read(p *Pipeline) {
	defer close(par.full)
	var b *batch
	get := func() bool {
		x, _, stopped := recvBatch(par.free, par.stop, par.tries)
		if stopped {
			return false
		}
		b = x
		b.items, b.arena, b.err = b.items[:0], b.arena[:0], nil
		return true
	}
	send := func() bool {
		if !sendBatch(par.full, b, par.stop, par.tries) {
			return false
		}
		b = nil
		return true
	}
	if !get() {
		return
	}
	if ap, ok := p.src.(frame.Appender); ok {
		par.readAppend(p, ap, &b, get, send)
		return
	}
	for {
		f, err := p.src.Next()
		if err != nil {
			b.err = err
			send()
			return
		}
		if len(b.items) == cap(b.items) || len(b.arena)+len(f.Data) > cap(b.arena) && len(b.items) > 0 {
			if !send() || !get() {
				return
			}
		}
		// Keep the bytes: in the arena when they fit, else (a frame of
		// more than arenaSlack, e.g. a 256 KiB super-packet) on their own.
		var data []byte
		if len(b.arena)+len(f.Data) <= cap(b.arena) {
			at := len(b.arena)
			b.arena = append(b.arena, f.Data...)
			data = b.arena[at:len(b.arena):len(b.arena)]
		} else {
			data = append([]byte(nil), f.Data...)
		}
		f.Data = data
		b.items = b.items[:len(b.items)+1]
		x := &b.items[len(b.items)-1]
		p.decode(f, x)
	}
}

// readAppend is read's loop for a source that appends each frame straight
// to the batch's arena (one copy fewer: see frame.Appender). A batch is sent
// when the room left in its arena might not hold the largest frame.
func (par *parallel) readAppend(p *Pipeline, ap frame.Appender, bp **batch, get, send func() bool) {
	if hb, ok := par.late.(frame.HeadBatcher); ok {
		par.readHeads(p, hb, bp, get, send)
		return
	}
	// Frame by frame, from a source that cannot batch.
	b := *bp
	// Heads only: with checksums skipped, the bytes past the head are not
	// even read; with checksums verified, the source adds them up where
	// they are when decode asks for it (frame.HeadSummer; not for a
	// checksum left partial by offload, with Decode.BadChecksumsOnly), and
	// a source that cannot copies all.
	var ha frame.HeadAppender
	var hs frame.HeadSummer
	if par.lateStage {
		ha = par.late
	} else if p.heads && p.lazy {
		if tr, _ := ap.(frame.TailReader); tr != nil && p.dopts.SkipChecksums {
			ha = tr
		}
	} else if p.heads && p.dopts.SkipChecksums {
		ha, _ = ap.(frame.HeadAppender)
	} else if p.heads {
		if hs, _ = ap.(frame.HeadSummer); hs != nil {
			ha = hs
		}
	}
	for {
		if len(b.items) == cap(b.items) || cap(b.arena)-len(b.arena) < maxFrame && len(b.items) > 0 {
			*bp = b
			if !send() || !get() {
				return
			}
			b = *bp
		}
		var f frame.Frame
		var arena []byte
		var err error
		if ha != nil {
			f, arena, err = ha.NextAppendHead(b.arena, headBytes)
		} else {
			f, arena, err = ap.NextAppend(b.arena)
		}
		if err != nil {
			b.err = err
			*bp = b
			send()
			return
		}
		// A frame larger than maxFrame moved the arena: the items before
		// it keep the old array alive until the batch comes back.
		b.arena = arena
		b.items = b.items[:len(b.items)+1]
		x := &b.items[len(b.items)-1]
		if par.lateStage {
			x.Frame = f // decoded by the analysing goroutine
			continue
		}
		p.decodeHeaders(f, x)
		if hs != nil && p.needsTailSum(x) {
			sum, err := hs.SumLast()
			if err != nil {
				b.items = b.items[:len(b.items)-1]
				b.err = err
				*bp = b
				send()
				return
			}
			addTailSum(x, sum)
		}
		if ha != nil && !p.headDecoded(x) {
			if err := ha.FillLast(f.Data); err != nil {
				b.items = b.items[:len(b.items)-1]
				b.err = err
				*bp = b
				send()
				return
			}
			f.Tail = frame.Tail{}
			p.decodeHeaders(f, x)
		}
		p.decodeRest(x)
	}
}

// readHeads is readAppend's loop for a source that copies heads a batch at
// a time: the heads are decoded by the analysing goroutine
// (Options.DecodeLate; Options.DecodeWhereIdle when it is idle), or here
// once the batch is read.
func (par *parallel) readHeads(p *Pipeline, hb frame.HeadBatcher, bp **batch, get, send func() bool) {
	b := *bp
	for {
		// A batch starts empty, and its arena holds the largest frame:
		// NextHeads stops at the first frame it cannot hold, or when the
		// items are full; either way the batch goes.
		frames := b.frames[len(b.items):cap(b.items)]
		k, arena, err := hb.NextHeads(b.arena, headBytes, par.sumHeads, frames)
		b.arena = arena
		// Left to the analysing goroutine when it has nothing queued (it
		// is waiting for the reader), decoded here when it is behind.
		b.late = par.lateStage || par.whereIdle && len(par.full) == 0
		if par.whereIdle && b.late {
			par.lateBatches++
		} else if par.whereIdle {
			par.hereBatches++
		}
		here := frames[:k] // the frames decoded here
		if b.late {
			// The analysing goroutine takes each frame from b.frames.
			b.items = b.items[:len(b.items)+k]
			here = nil
		}
		for _, f := range here {
			b.items = b.items[:len(b.items)+1]
			x := &b.items[len(b.items)-1]
			x.Frame = f
			if derr := p.decodeLate(x); derr != nil {
				// The frames before it stand; the source's own error,
				// after the batch, is never reached.
				b.items, err = b.items[:len(b.items)-1], derr
				break
			}
		}
		if err != nil {
			b.err = err
			*bp = b
			send()
			return
		}
		*bp = b
		if !send() || !get() {
			return
		}
		b = *bp
	}
}

// needsTailSum reports whether decode left the TCP checksum of an item read
// as a head (frame.Tail) waiting for the sum of the frame's other bytes.
func (p *Pipeline) needsTailSum(x *Item) bool {
	pk := &x.Packet
	return x.Frame.Tail.Off > 0 && !p.dopts.SkipChecksums && pk.TCP != nil && pk.TCPChecksum == decode.ChecksumUnverified && !pk.Truncated
}

// addTailSum gives the item the sum its source made of those bytes, and
// decode the verdict.
func addTailSum(x *Item, sum uint16) {
	x.Frame.Tail.Summed, x.Frame.Tail.Sum = true, sum
	x.Packet.VerifyTail(x.Frame.Tail)
}

// headBytes is how much of each frame a HeadersOnly pipeline copies: an
// Ethernet header with two VLAN tags, the largest IPv4 header and the
// largest TCP header (18+60+60) fit, as do IPv6 with a few extension
// headers or one tunnel; deeper headers cost a second copy.
const headBytes = 192

// headDecoded reports whether the item was decoded from its frame's first
// headBytes alone, with nothing that needs the bytes after them: a whole
// TCP header within them, no fragment, ICMP error or decoding fault (which
// a cut frame could have caused), and, when checksums are verified, a
// verdict (decode leaves a checksum it could not verify from the head and
// the source's sum of the rest unverified: see decode's verifyTail).
func (p *Pipeline) headDecoded(it *Item) bool {
	if it.Frame.Tail.Off == 0 {
		return true
	}
	pk := &it.Packet
	return it.DecodeErr == nil && pk.TCP != nil && !pk.Fragment && !pk.HasICMP &&
		pk.TCPOffset+pk.TCP.HeaderLen() <= headBytes &&
		(p.dopts.SkipChecksums || pk.Truncated || pk.TCPChecksum != decode.ChecksumUnverified)
}

// next gives the caller the next item, analysed, in place in its batch:
// the batch goes back to the reader only at the following call.
func (par *parallel) next(p *Pipeline) (*Item, error) {
	for par.cur == nil || par.i == len(par.cur.items) {
		if par.cur != nil {
			if par.cur.err != nil {
				par.err = par.cur.err
			}
			par.free <- par.cur
			par.cur = nil
		}
		if par.err != nil {
			return nil, par.err
		}
		in := par.full
		if par.ready != nil {
			in = par.ready
		}
		b, ok, _ := recvBatch(in, nil, par.tries)
		if !ok {
			if par.err == nil {
				par.err = errClosed
			}
			return nil, par.err
		}
		par.cur, par.i = b, 0
	}
	x := &par.cur.items[par.i]
	par.i++
	if par.ready == nil {
		p.analyze(x)
	}
	return x, nil
}

// errClosed is returned by Next after Close.
var errClosed = errors.New("pipeline closed")

// lateFrames is the frames the analysing goroutine copies into the batch's
// items (batch.frames), or nil when the reader put them there.
func (b *batch) lateFrames() []frame.Frame {
	if b.frames == nil || !b.late {
		return nil
	}
	return b.frames[:len(b.items)]
}
