// Package pipeline wires tcpscope's one-way flow for one capture:
// source → decode → (defragment) → analyze. Each call to Next yields one
// frame with its decoded headers and, for a TCP segment, the analyzer's
// verdict. Rendering is left to the caller.
//
// It does no I/O of its own beyond reading the Source, and never prints.
package pipeline

import (
	"errors"
	"io"
	"net/netip"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/defrag"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// Item is one frame as it leaves the pipeline. Packet and the frame bytes
// are valid only until the next call to Next.
type Item struct {
	Frame  frame.Frame
	Packet decode.Packet
	// DecodeErr is a problem with this frame alone (truncated, malformed);
	// the frame is still shown with what could be decoded.
	DecodeErr error
	// Analyzed is true when the frame carried a TCP segment that was fed
	// to the analyzer; Result is then valid.
	Analyzed bool
	// Located: the frame carries a TCP header that is not a segment of
	// its own — one quoted whole in an ICMP error (Result.Stream only, as
	// Wireshark numbers it), or one cut inside its 20 bytes or with a bogus
	// data offset (Result's Stream, Seq, Ack, Win and Conn, no analysis).
	// Analyzed stays false, so counters and views of segments, which need
	// Packet.TCP, leave it out.
	Located bool
	Segment analysis.Segment
	Result  analysis.Result
	// Reassembled: the TCP segment was rebuilt from IP fragments that
	// ended with this frame.
	Reassembled bool
	// EvictedStreams is the analyzer's EvictedStreams after this frame,
	// so a caller can say when connections start being forgotten.
	EvictedStreams int
	// States lists the TCP state changes this segment caused (sender's
	// first, then receiver's), when the pipeline follows states
	// (Options.States). It reuses storage: valid until the next Next.
	States []tcpstate.Change

	sack   [decode.MaxSACKBlocks]analysis.SACKBlock // Segment.SACK's storage
	states [4]tcpstate.Change                       // States's storage
}

// Pipeline reads frames from a Source and analyzes their TCP segments.
type Pipeline struct {
	src   frame.Source
	an    *analysis.Analyzer
	frag  *defrag.Reassembler
	First frame.Meta // the first frame's metadata, once one was read
	seen  bool
	par   *parallel // set by NewParallel
	dopts decode.DecodeOptions
	own   Item // NextRef's item in a sequential pipeline
	heads bool // Options.HeadersOnly
	lazy  bool // Options.LazyPayload
	st    *tcpstate.Tracker
	// recent remembers the frames of recent segments by their addresses,
	// ports and sequence number, so an ICMP error can name the segment it
	// quotes; a fixed table, overwritten, so memory stays bounded.
	recent   [recentSlots]recentSeg
	noQuoted bool // Options.NoQuotedFrames: recent is not kept
}

const (
	recentBits  = 10
	recentSlots = 1 << recentBits
)

type recentSeg struct {
	src, dst netip.AddrPort
	seq      uint32
	frame    int
}

// recentSlot hashes only the ports and the sequence number: they already
// spread segments over the table, and the addresses, compared on lookup,
// need not be hashed too (two 16-byte copies per segment).
func recentSlot(src, dst netip.AddrPort, seq uint32) int {
	h := (seq ^ uint32(src.Port())<<16 ^ uint32(dst.Port())) * 2654435761
	return int(h >> (32 - recentBits))
}

// Options tunes a pipeline made by NewWith.
type Options struct {
	// Parallel reads and decodes on a goroutine of their own, as
	// NewParallel does (for files).
	Parallel bool
	// Decode is passed to decode.DecodeWith for every frame: a caller that
	// never shows checksum verdicts sets SkipChecksums and saves the
	// costliest part of decoding.
	Decode decode.DecodeOptions
	// HeadersOnly (with Parallel) says the caller reads no payload bytes:
	// from a source that can (a mapped pcap file, frame.HeadAppender) only
	// the first bytes of each frame are copied, enough for its headers;
	// a frame whose headers lie deeper, an IP fragment (reassembly needs
	// its bytes) or a frame that is not a plain TCP segment is copied
	// whole. Packet.Payload then has the right length but unspecified
	// bytes. Checksums are still verified unless Decode.SkipChecksums:
	// the source adds up the bytes it does not copy (frame.HeadSummer; a
	// source that cannot copies every frame whole). tcpscope stats uses
	// it (it sums lengths and never looks inside), and replay when it
	// shows no payload bytes.
	HeadersOnly bool
	// LazyPayload (with HeadersOnly) says the caller wants the payload of
	// some frames, known only once they are analysed (follow: one
	// stream's), and calls Fill for them. Heads are then copied only from
	// a source that can copy the rest later (frame.TailReader); from
	// another, every frame is copied whole.
	LazyPayload bool
	// AnalysisStage (with Parallel) analyses on a third goroutine, between
	// the reading one and the caller: with the reading cheap (headers
	// only), the analysis and the rendering together were the slower
	// half; three stages of similar weight keep two cores busy. The
	// analyzer (and States) is then that goroutine's until Close returns.
	AnalysisStage bool
	// DecodeLate (with AnalysisStage and HeadersOnly, from a source that
	// can read a frame's rest later, frame.TailReader) decodes on the
	// analysing goroutine too, leaving the reading goroutine nothing but
	// the copying of heads. It pays where the reading is the slowest stage
	// and the decoding cheap (stats: no checksums, no payload); where the
	// rendering is heavy, or every payload must be summed (replay --json),
	// it makes the analysing goroutine the slowest instead.
	DecodeLate bool
	// DecodeWhereIdle (with AnalysisStage and HeadersOnly, from a source
	// that reads heads in batches and can give a frame's rest later)
	// decides for each batch where it is decoded: by the reader when the
	// analysing goroutine still has batches waiting, by the analysing
	// goroutine when it has none, so the one with time to spare does it
	// (exact checksum verdicts are still summed by the reader as it
	// reads). replay uses it: with every line shown the analysing
	// goroutine is the busier and little changes; with -Y showing a few
	// lines, it is the reader (bench/bulk.pcap -Y tcp.analysis.flags:
	// 0.65 → 0.53 s). Where DecodeLate applies, it wins.
	DecodeWhereIdle bool
	// States, when set, follows every connection's TCP state (RFC 9293's
	// names) from the analysed segments and fills Item.States. It
	// belongs to the pipeline like the Analyzer does.
	States *tcpstate.Tracker
	// NoQuotedFrames leaves every ICMP error's QuotedFrame 0: the pipeline
	// then does not remember each segment's frame by its ends and sequence
	// number (an 80-byte write into a table for every segment), for a
	// caller that shows no ICMP error's line (stats). The stream an ICMP
	// error's quoted header is placed in is the same
	// (TestNoQuotedFramesSameItems).
	NoQuotedFrames bool
}

// New returns a pipeline over src feeding an. an may be nil to decode only.
func New(src frame.Source, an *analysis.Analyzer) *Pipeline {
	return NewWith(src, an, Options{})
}

// NewWith returns a pipeline over src feeding an, tuned by o. With
// o.Parallel, call Close when done (see NewParallel).
func NewWith(src frame.Source, an *analysis.Analyzer, o Options) *Pipeline {
	p := &Pipeline{src: src, an: an, frag: defrag.New(), dopts: o.Decode, heads: o.HeadersOnly, lazy: o.LazyPayload, st: o.States,
		noQuoted: o.NoQuotedFrames}
	if o.Parallel {
		p.startParallel(o.AnalysisStage, o.DecodeLate, o.DecodeWhereIdle)
	}
	return p
}

// Next fills it with the next frame. It returns io.EOF at the end of the
// source and any other source error as is (frames before it were valid).
func (p *Pipeline) Next(it *Item) error {
	x, err := p.NextRef()
	if err != nil {
		return err
	}
	// The packet's tunnels and ICMP error live out of line, in storage the
	// pipeline reuses: it gets its own (see decode.Packet.CopyTo).
	outer, icmp := it.Packet.Outer, it.Packet.ICMP
	*it = *x
	it.Packet.Outer, it.Packet.ICMP = outer, icmp
	x.Packet.CopyTo(&it.Packet)
	return nil
}

// NextRef is Next without the copy: it returns the pipeline's own item,
// valid (with its frame bytes) only until the next call to Next or NextRef.
// An Item is over a kilobyte, and copying it per frame is a measurable part
// of a replay; loops that look at each frame once use this.
func (p *Pipeline) NextRef() (*Item, error) {
	if p.par != nil {
		return p.par.next(p)
	}
	f, err := p.src.Next()
	if err != nil {
		return nil, err
	}
	it := &p.own
	p.decode(f, it)
	p.analyze(it)
	return it, nil
}

// Fill gives an item of a LazyPayload pipeline the whole of its frame's
// bytes, and so its payload (Packet.Payload aliases them), when only its
// head was copied; an item copied whole is left as it is. Call it from the
// goroutine that calls Next, before the next call.
func (p *Pipeline) Fill(it *Item) error {
	if it.Frame.Tail.Off == 0 {
		return nil
	}
	tr, ok := p.src.(frame.TailReader)
	if !ok {
		return errors.New("pipeline: Fill on a source that cannot read payloads later")
	}
	if err := tr.ReadTail(it.Frame); err != nil {
		return err
	}
	it.Frame.Tail = frame.Tail{}
	return nil
}

// WithPayload calls use with the TCP payload of an item of a LazyPayload
// pipeline (the bytes Packet.Payload holds once filled). Where only the
// frame's head was copied and the source can lend the rest where it lies
// (frame.TailViewer: a mapped file), use reads it there: follow writes a
// stream's payload out once instead of copying it into the item first
// (Fill). use must not keep payload; the item is left unfilled. Call it
// from the goroutine that calls Next, before the next call.
func (p *Pipeline) WithPayload(it *Item, use func(payload []byte)) error {
	pk := &it.Packet
	if len(pk.Payload) == 0 || it.Reassembled {
		// A datagram rebuilt from fragments holds its payload whole, in
		// the reassembler's buffer: its offsets are not the frame's.
		use(pk.Payload)
		return nil
	}
	off, n := pk.PayloadOffset(), len(pk.Payload)
	if v, ok := p.src.(frame.TailViewer); ok && off >= 0 && off+n <= len(it.Frame.Data) {
		return v.ViewFrame(it.Frame, off, n, use)
	}
	if err := p.Fill(it); err != nil {
		return err
	}
	use(pk.Payload)
	return nil
}

// decode is the first half of Next: it decodes f into it (reassembling IP
// fragments) and, for a TCP segment, fills it.Segment, but does not analyse.
// In a parallel pipeline it runs on the reading goroutine.
func (p *Pipeline) decode(f frame.Frame, it *Item) {
	p.decodeHeaders(f, it)
	p.decodeRest(it)
}

// decodeHeaders is decode's first half: the frame's own headers, with no
// effect outside it (so a HeadersOnly pipeline may do it twice).
func (p *Pipeline) decodeHeaders(f frame.Frame, it *Item) {
	it.Frame = f
	p.decodeItem(it)
}

// decodeItem is decodeHeaders for an item whose Frame is set already
// (the parallel pipeline's, copied in by the reader): the frame, 104
// bytes, is not copied onto itself again.
func (p *Pipeline) decodeItem(it *Item) {
	// Result is left to analyze, which sets it whatever the frame (on
	// another goroutine in a parallel pipeline: zeroing its 400 bytes here
	// only moved them from one core's cache to the other's).
	it.Analyzed, it.Located, it.Reassembled, it.EvictedStreams = false, false, false, 0
	it.States = nil
	it.Segment = analysis.Segment{}
	it.DecodeErr = decode.DecodeFrame(&it.Frame, &it.Packet, p.dopts)
}

// decodeRest is decode's second half: fragments go to the reassembler, and
// a TCP segment becomes the analyzer's input.
func (p *Pipeline) decodeRest(it *Item) {
	f := &it.Frame
	pk := &it.Packet
	if it.DecodeErr == nil && pk.Fragment {
		var whole []byte
		var ferr error
		ip := f.Data[pk.IPOffset:]
		if pk.IPVersion == 4 {
			whole, ferr = p.frag.IPv4(ip, f.Meta.Time)
		} else {
			whole, ferr = p.frag.IPv6(ip, pk.Ext.FragHdrOff, pk.Src, pk.Dst, f.Meta.Time)
		}
		if ferr != nil {
			it.DecodeErr = ferr
		} else if whole != nil {
			it.DecodeErr = decode.DecodeIPWith(whole, pk, p.dopts)
			it.Reassembled = true
		}
	}
	if pk.TCPHead() == nil {
		return
	}
	segmentInto(&it.Segment, &f.Meta, pk, it.sack[:0]) // a short segment only needs its stream (Locate)
}

// analyze is the second half of Next: it feeds a decoded TCP segment to the
// analyzer, in capture order.
func (p *Pipeline) analyze(it *Item) {
	if !p.seen {
		p.First, p.seen = it.Frame.Meta, true
	}
	if p.an == nil {
		it.Result = analysis.Result{}
		return
	}
	if pk := &it.Packet; pk.HasICMP {
		it.Result = analysis.Result{}
		p.quoted(it)
		return
	}
	if s := &it.Segment; !p.noQuoted && it.Packet.TCPHead() != nil {
		p.recent[recentSlot(s.Src, s.Dst, s.Seq)] = recentSeg{s.Src, s.Dst, s.Seq, s.Frame}
	}
	switch {
	case it.Packet.TCP != nil && !it.Packet.TCPShort:
		p.an.AddTo(&it.Segment, &it.Result)
		it.Analyzed = true
		if p.st != nil {
			g := &it.Segment
			it.States = p.st.Step(it.Result.Stream, g.Src, g.Dst,
				tcpstate.Seg{Flags: g.Flags, Seq: g.Seq, Ack: g.Ack, Len: g.Len}, it.states[:0])
		}
	case it.Packet.TCP != nil:
		// A short segment: a stream, as in Wireshark, but no analysis.
		it.Result = p.an.Locate(it.Segment)
		it.Analyzed = true
	case it.Packet.TCPHead() != nil:
		// A header cut after the window, or with a bogus data offset:
		// Wireshark 4.0 updates the connection's state with it (the next
		// ACK names it in acks_frame) but stops dissecting before it shows
		// the analysis, so only the stream and the relative numbers are
		// kept (checked with tshark in the agreement test).
		p.an.AddTo(&it.Segment, &it.Result)
		it.Located = true
		hideAnalysis(&it.Result, it.Packet.TCPBogus)
	default:
		it.Result = analysis.Result{}
	}
	it.EvictedStreams = p.an.EvictedStreams()
}

// quoted handles an ICMP error quoting a TCP header: it names the frame of
// the quoted segment when it was seen, and a header quoted whole gets the
// stream of its connection (a new one for an unknown connection), as in
// Wireshark; nothing goes into the sequence analysis.
func (p *Pipeline) quoted(it *Item) {
	e := it.Packet.ICMP
	t := decode.TCP(e.TCP)
	src, dst := netip.AddrPortFrom(e.Src, t.SrcPort()), netip.AddrPortFrom(e.Dst, t.DstPort())
	if len(e.TCP) >= 8 {
		if r := p.recent[recentSlot(src, dst, t.Seq())]; r.src == src && r.dst == dst && r.seq == t.Seq() && r.frame < it.Frame.Meta.Number {
			e.QuotedFrame = r.frame
		}
	}
	if h := e.Head(); h != nil && p.an != nil {
		it.Result = analysis.Result{Frame: it.Frame.Meta.Number, Stream: p.an.StreamOf(analysis.Segment{
			Frame: it.Frame.Meta.Number, Time: it.Frame.Meta.Time, Src: src, Dst: dst, Seq: h.Seq(), Ack: h.Ack(), Window: h.Window(), MSS: -1, WScale: -1})}
		it.Located = true
		it.EvictedStreams = p.an.EvictedStreams()
	}
}

// hideAnalysis keeps what Wireshark shows of a segment whose header it
// could not dissect whole: the stream and relative numbers, and the
// connection events of its flags unless the header length is bogus (then
// the flags are never shown).
func hideAnalysis(r *analysis.Result, bogus bool) {
	*r = analysis.Result{Frame: r.Frame, Stream: r.Stream, Seq: r.Seq, Ack: r.Ack, Win: r.Win, Conn: r.Conn}
	if bogus {
		r.Conn = 0
	}
}

// SegmentOf converts a decoded TCP packet into the analyzer's input. SACK
// blocks are appended to sack (pass a reusable buffer to avoid allocation).
// A header cut after the window or with a bogus length (pk.TCPHead) gives
// its fixed fields and no options.
func SegmentOf(m frame.Meta, pk *decode.Packet, sack []analysis.SACKBlock) analysis.Segment {
	var s analysis.Segment
	segmentInto(&s, &m, pk, sack)
	return s
}

// segmentInto is SegmentOf writing into *s, which the pipeline's items
// hold: set field by field, because a returned Segment (184 bytes) was
// built in a temporary and copied (1.5 % of stats's instructions). *s
// must be zero: SegmentOf's is new, an item's was cleared by decodeItem.
func segmentInto(s *analysis.Segment, m *frame.Meta, pk *decode.Packet, sack []analysis.SACKBlock) {
	t := pk.TCPHead()
	o := &pk.Options
	s.Frame = m.Number
	s.Time = m.Time
	s.Src = pk.SrcAddrPort()
	s.Dst = pk.DstAddrPort()
	s.Seq, s.Ack = t.Seq(), t.Ack()
	s.Flags = t.Flags()
	s.Window = t.Window()
	s.Len = pk.PayloadLen
	s.MSS, s.WScale = -1, -1
	if o.HasMSS {
		s.MSS = int(o.MSS)
	}
	if o.HasWScale {
		s.WScale = int(o.WScale)
	}
	s.OptionsUnseen = pk.TCP == nil
	s.SACKPerm = o.SACKPerm
	s.EmptySACK = o.EmptySACK
	for i := 0; i < o.NSACK; i++ {
		sack = append(sack, analysis.SACKBlock{Left: o.SACK[i].Left, Right: o.SACK[i].Right})
	}
	if len(sack) > 0 {
		s.SACK = sack
	}
	s.HasTS, s.TSVal, s.TSEcr = o.HasTS, o.TSVal, o.TSEcr
}

// IsEOF reports whether err marks the normal end of a source.
func IsEOF(err error) bool { return errors.Is(err, io.EOF) }
