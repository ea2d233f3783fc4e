package render

import (
	"encoding/binary"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/decimal"
)

// JSON prints one JSON object per TCP segment, one per line, in the format
// of docs/packet-json.md (Wireshark field names). It builds each line
// in a reused buffer with strconv, so it allocates almost nothing.
type JSON struct {
	W     io.Writer
	Start time.Time // time 0 for rel_time (the first frame)
	// StrSize, when > 0, ends a data segment's note with its bytes or its
	// HTTP start line, as Text.StrSize does.
	StrSize int
	buf     []byte

	// The "time" key's date and clock up to the second, as RFC 3339, for
	// the second daySec: consecutive frames mostly share it, and
	// time.AppendFormat is the costliest call of a line.
	daySec  int64
	dayText []byte
	addrs   addrTexts // the last addresses' text
	irtt    secondsText
	ts      tsTexts   // the last timestamps' text, per flow
	flows   flowTexts // the ends' text, per flow
	rel     relClock  // rel_time's subtraction, with Start taken apart once
}

// relClock subtracts a fixed start from each line's time, as t.Sub(start)
// does, with the start's seconds and nanoseconds worked out once.
// time.Time.Sub adds its result back and compares, to catch an overflow
// past ±292 years, which times less than 2³³ seconds apart cannot reach:
// that check was most of rel_time's cost. Time.Sub subtracts monotonic
// readings when both times have one: then (never for a capture's times,
// time.Unix makes none) Sub does it. TestRelClockIsSub.
type relClock struct {
	start     time.Time // the start taken apart, when set
	set, mono bool      // mono: start has a monotonic reading
	sec, nsec int64
}

// since returns t.Sub(start).
func (c *relClock) since(t, start time.Time) time.Duration {
	if !c.set || start != c.start {
		c.start, c.set, c.mono = start, true, start != start.Round(0)
		c.sec, c.nsec = start.Unix(), int64(start.Nanosecond())
	}
	if d := t.Unix() - c.sec; !c.mono && d > -1<<33 && d < 1<<33 {
		return time.Duration(d)*time.Second + time.Duration(int64(t.Nanosecond())-c.nsec)
	}
	return t.Sub(start)
}

// secondsText is the last duration appendSeconds wrote for one key, and
// its text: the initial RTT is the same on every segment of a connection
// (most lines of a capture carry one), and writing it again was 2 % of
// replay --json's CPU. An array, so that a renderer copied by value shares
// nothing.
type secondsText struct {
	d    time.Duration
	n    uint8 // 0: nothing kept
	text [32]byte
}

// append appends appendSeconds(d), from the kept text when d is the last one.
func (s *secondsText) append(b []byte, d time.Duration) []byte {
	if s.n > 0 && s.d == d {
		return append(b, s.text[:s.n]...)
	}
	at := len(b)
	b = appendSeconds(b, d)
	if n := len(b) - at; n <= len(s.text) {
		s.d, s.n = d, uint8(copy(s.text[:], b[at:]))
	}
	return b
}

// appendTime appends t as time.RFC3339Nano in UTC, byte for byte what
// t.UTC().AppendFormat(b, time.RFC3339Nano) appends, reusing the text up
// to the second from the previous call.
func (j *JSON) appendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if j.dayText == nil || sec != j.daySec {
		j.daySec = sec
		j.dayText = time.Unix(sec, 0).UTC().AppendFormat(j.dayText[:0], "2006-01-02T15:04:05")
	}
	b = append(b, j.dayText...)
	if ns := t.Nanosecond(); ns != 0 {
		b = appendFraction(append(b, '.'), int64(ns))
	}
	return append(b, 'Z')
}

// appendFraction appends ns (0 < ns < 1e9) as the nine digits after a
// decimal point, trailing zeros trimmed.
func appendFraction(b []byte, ns int64) []byte {
	return decimal.AppendFraction9(b, uint32(ns))
}

// maxExactSeconds bounds the durations appendSeconds formats itself: below
// 2^22 s (48 days) a float64 number of seconds has a resolution finer than
// a nanosecond, so the shortest decimal that reads back as d.Seconds() is
// d's own nanosecond decimal whenever that decimal reads back at all.
const maxExactSeconds = 1 << 22 * time.Second

// appendSeconds appends d in seconds exactly as
// strconv.AppendFloat(b, d.Seconds(), 'f', -1, 64) does, without the
// float formatting: the integer nanoseconds are written as a fixed-point
// decimal with trailing zeros trimmed. That is the same text when the
// decimal reads back as d.Seconds() (float64(d)/1e9 is that reading,
// correctly rounded, for |d| < 2^53 ns) and no shorter decimal does (true
// below maxExactSeconds); otherwise, or for a d.Seconds() rounded the
// other way, strconv does it.
func appendSeconds(b []byte, d time.Duration) []byte {
	f := d.Seconds()
	if d <= -maxExactSeconds || d >= maxExactSeconds || float64(d)/1e9 != f {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	b = decimal.AppendInt(b, int64(d/time.Second))
	if ns := int64(d % time.Second); ns != 0 {
		b = appendFraction(append(b, '.'), ns)
	}
	return b
}

// Segment writes the line for one frame carrying TCP. r may be nil (decode
// only: the analysis keys are then omitted, and analysis/conn are []).
func (j *JSON) Segment(m frame.Meta, p *decode.Packet, r *analysis.Result) error {
	b := j.buf[:0]
	b = append(b, `{"frame":`...)
	b = decimal.AppendInt(b, int64(m.Number))
	b = append(b, `,"time":"`...)
	b = j.appendTime(b, m.Time)
	b = append(b, `","rel_time":`...)
	b = appendSeconds(b, j.rel.since(m.Time, j.Start))
	if r != nil && !p.HasICMP && p.NOuter == 0 && p.TCP != nil {
		// The usual segment: stream, ends and ports as its flow's last.
		src, dst := p.SrcAddrPort(), p.DstAddrPort()
		e, ok := j.flows.lookup(src, dst, r.Stream)
		if ok {
			b = append(b, e.text[:e.n]...)
		} else {
			at := len(b)
			b, _ = j.appendEndsOr(b, m, p, r) // TCP outside ICMP: never whole here
			e.keep(src, dst, r.Stream, b[at:])
		}
	} else {
		var done bool
		if b, done = j.appendEndsOr(b, m, p, r); done {
			j.buf = b
			_, err := j.W.Write(b)
			return err
		}
	}
	t := p.TCP
	b = appendFlags(append(b, `,"flags":`...), t.Flags())
	if r != nil {
		b = append(b, `,"seq":`...)
		b = decimal.AppendUint(b, uint64(r.Seq))
		b = append(b, `,"ack":`...)
		b = decimal.AppendUint(b, uint64(r.Ack))
	} else { // not analyzed: no base to be relative to, as tshark shows it
		b = append(b, `,"seq":`...)
		b = decimal.AppendUint(b, uint64(t.Seq()))
		b = append(b, `,"ack":`...)
		b = decimal.AppendUint(b, uint64(t.Ack()))
	}
	b = append(b, `,"seq_raw":`...)
	b = decimal.AppendUint(b, uint64(t.Seq()))
	b = append(b, `,"ack_raw":`...)
	b = decimal.AppendUint(b, uint64(t.Ack()))
	if !p.TCPShort {
		b = append(b, `,"len":`...)
		b = decimal.AppendInt(b, int64(p.PayloadLen))
	}
	b = append(b, `,"win":`...)
	if r != nil {
		b = decimal.AppendUint(b, uint64(r.Win))
	} else {
		b = decimal.AppendUint(b, uint64(t.Window()))
	}
	b = append(b, `,"win_raw":`...)
	b = decimal.AppendUint(b, uint64(t.Window()))
	if r == nil || r.Flags == 0 && r.Conn == 0 {
		b = append(b, `,"analysis":[],"conn":[]`...) // most lines
	} else {
		// Names are plain lower-case words: quoted without strconv, and
		// without the slice Names would allocate.
		b = r.Flags.AppendJSON(append(b, `,"analysis":[`...))
		b = append(r.Conn.AppendJSON(append(b, `],"conn":[`...)), ']')
	}
	if r != nil {
		if r.AcksFrame != 0 {
			b = append(b, `,"acks_frame":`...)
			b = decimal.AppendInt(b, int64(r.AcksFrame))
		}
		if r.HasAckRTT {
			b = append(b, `,"ack_rtt":`...)
			b = appendSeconds(b, r.AckRTT)
		}
		if r.HasInitialRTT {
			b = append(b, `,"initial_rtt":`...)
			b = j.irtt.append(b, r.InitialRTT)
		}
		if r.HasBIF {
			b = append(b, `,"bytes_in_flight":`...)
			b = decimal.AppendUint(b, uint64(r.BytesInFlight))
		}
		if r.DupAckNum != 0 {
			b = append(b, `,"dup_ack_num":`...)
			b = decimal.AppendInt(b, int64(r.DupAckNum))
		}
		if !r.Note.IsZero() && j.StrSize > 0 {
			// The payload's words are the packet's bytes: checked and
			// escaped as strconv.AppendQuote would.
			b = append(b, `,"note":`...)
			b = appendQuoted(b, func(b []byte) []byte {
				return AppendPayloadNote(r.Note.AppendTo(b), p.Payload, p.PayloadLen, j.StrSize)
			})
		} else if !r.Note.IsZero() {
			// A note alone needs no escaping (analysis.Note.AppendTo).
			b = append(r.Note.AppendTo(append(b, `,"note":"`...)), '"')
		}
		if s := r.Severity.String(); s != "" {
			b = append(b, `,"severity":"`...)
			b = append(b, s...)
			b = append(b, '"')
		}
	}
	// Extra keys (allowed by the spec): header details and checksum status.
	b = append(b, `,"hdr_len":`...)
	b = decimal.AppendInt(b, int64(t.HeaderLen()))
	if p.IPVersion == 4 {
		b = append(b, `,"ip_ttl":`...)
		b = decimal.AppendUint(b, uint64(p.IPv4.TTL()))
		b = append(b, `,"ip_id":`...)
		b = decimal.AppendUint(b, uint64(p.IPv4.ID()))
	} else if p.IPVersion == 6 {
		b = append(b, `,"ip_hlim":`...)
		b = decimal.AppendUint(b, uint64(p.IPv6.HopLimit()))
	}
	// The options text is plain ASCII without quotes or backslashes
	// (AppendOptionsShort promises it): no escaping needed.
	at := len(b)
	b = j.ts.appendOptions(append(b, `,"options":"`...), p, 0)
	if len(b) == at+len(`,"options":"`) {
		b = b[:at] // no options, no key
	} else {
		b = append(b, '"')
	}
	if p.Options.Malformed != "" {
		b = append(b, `,"options_error":`...)
		b = strconv.AppendQuote(b, p.Options.Malformed)
	}
	b = append(b, checksumKey(p.TCPChecksum)...)
	if p.Truncated {
		// Cut by the snaplen: say how much of the frame is missing.
		b = append(b, `,"frame_len":`...)
		b = decimal.AppendInt(b, int64(m.OrigLen))
		b = append(b, `,"cap_len":`...)
		b = decimal.AppendInt(b, int64(m.CapLen))
	}
	b = append(b, "}\n"...)
	j.buf = b
	_, err := j.W.Write(b)
	return err
}

// checksumKey is the "tcp_checksum" key with a verdict's words (fixed
// words, nothing to escape), whole: one append instead of four.
func checksumKey(c decode.Checksum) string {
	switch c {
	case decode.ChecksumOK:
		return `,"tcp_checksum":"ok"`
	case decode.ChecksumBad:
		return `,"tcp_checksum":"bad"`
	case decode.ChecksumPartial:
		return `,"tcp_checksum":"unverified: partial checksum, as on loopback"`
	}
	return `,"tcp_checksum":"unverified"`
}

// appendQuoted appends, as a quoted string exactly as strconv.AppendQuote
// would write it, the text that write appends. Text that needs no escaping
// (printable, valid UTF-8, no quote or backslash: every note) is quoted in
// place, without the string strconv.AppendQuote would need.
func appendQuoted(b []byte, write func([]byte) []byte) []byte {
	at := len(b)
	b = write(append(b, '"'))
	raw := b[at+1:]
	i := 0
	for i+8 <= len(raw) && plain8(binary.LittleEndian.Uint64(raw[i:])) {
		i += 8 // eight printable ASCII bytes, none to escape
	}
	if i < len(raw) && i+8 > len(raw) && len(raw) >= 8 && plain8(binary.LittleEndian.Uint64(raw[len(raw)-8:])) {
		// Fewer than eight left, all plain: checked in the eight bytes
		// that end the text (some seen already) instead of one by one.
		i = len(raw)
	}
	for i < len(raw) {
		if i+8 <= len(raw) && plain8(binary.LittleEndian.Uint64(raw[i:])) {
			i += 8 // eight printable ASCII bytes, none to escape
			continue
		}
		c := raw[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
				return strconv.AppendQuote(b[:at], string(raw))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			return strconv.AppendQuote(b[:at], string(raw))
		}
		i += n
	}
	return append(b, '"')
}

// plain8 reports whether the eight bytes of x are all printable ASCII
// other than the quote and the backslash: bytes strconv.AppendQuote copies
// as they are. A note is checked eight bytes at a time this way, instead
// of byte by byte: that loop was a quarter of the JSON line's own time
// (perf annotate, replay --json of bench/big.pcap).
//
// The tests are the bit tricks of "Bit Twiddling Hacks" (Anderson), each
// read in the top bit of every byte (high): with ones = 0x01 in every byte,
// (v-ones)&^v marks some byte exactly when a byte of v is zero (borrows may
// mark more bytes, never fewer, and never turn "none" into "some"), so with
// v = x^(c*ones) it finds bytes equal to c; (x-0x20*ones)&^x finds bytes
// below 0x20; x itself, bytes of 0x80 and above (UTF-8, which goes the
// byte-by-byte way with everything else).
func plain8(x uint64) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	q, bs, del := x^('"'*ones), x^('\\'*ones), x^(0x7f*ones)
	bad := x | (x-0x20*ones)&^x | (q-ones)&^q | (bs-ones)&^bs | (del-ones)&^del
	return bad&high == 0
}

// Problem writes the line of a frame that could not be decoded to a TCP
// segment because it is malformed (an IPv4 header with a bogus length):
// the frame, its time and an "error" key in Wireshark's words, so the frame
// is not silently missing from the lines (docs/packet-json.md).
func (j *JSON) Problem(m frame.Meta, msg string) error {
	b := j.buf[:0]
	b = append(b, `{"frame":`...)
	b = decimal.AppendInt(b, int64(m.Number))
	b = append(b, `,"time":"`...)
	b = j.appendTime(b, m.Time)
	b = append(b, `","rel_time":`...)
	b = appendSeconds(b, j.rel.since(m.Time, j.Start))
	b = append(b, `,"error":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, "}\n"...)
	j.buf = b
	_, err := j.W.Write(b)
	return err
}

// appendPartial writes the rest of the line for a TCP header that could not
// be decoded whole, with the keys tshark 4.0 gives such a frame: a header
// cut by the snaplen before the window has its ports only; one cut after
// the window has every fixed field, its stream and relative numbers (r);
// one with a data offset below 5 has its stream, seq and len but no flags,
// ack or window (Wireshark stops before it shows them). None has analysis.
func (j *JSON) appendPartial(b []byte, m frame.Meta, p *decode.Packet, r *analysis.Result) []byte {
	tp := p.TCPPartial
	if len(tp) >= 2 {
		b = append(b, `,"sport":`...)
		b = decimal.AppendUint(b, uint64(decode.Ntohs(tp)))
	}
	if len(tp) >= 4 {
		b = append(b, `,"dport":`...)
		b = decimal.AppendUint(b, uint64(decode.Ntohs(tp[2:])))
	}
	h := p.TCPHead()
	if h == nil || r == nil {
		if p.TCPBogus {
			return append(b, `,"flags":[],"analysis":[],"conn":[],"error":"bogus TCP header length"}`+"\n"...)
		}
		return append(b, `,"flags":[],"analysis":[],"conn":[],"error":"TCP header truncated"}`+"\n"...)
	}
	if !p.TCPBogus {
		b = appendFlags(append(b, `,"flags":`...), h.Flags())
	}
	b = append(b, `,"seq":`...)
	b = decimal.AppendUint(b, uint64(r.Seq))
	if !p.TCPBogus {
		b = append(b, `,"ack":`...)
		b = decimal.AppendUint(b, uint64(r.Ack))
	}
	b = append(b, `,"seq_raw":`...)
	b = decimal.AppendUint(b, uint64(h.Seq()))
	if !p.TCPBogus {
		b = append(b, `,"ack_raw":`...)
		b = decimal.AppendUint(b, uint64(h.Ack()))
	}
	b = append(b, `,"len":`...)
	b = decimal.AppendInt(b, int64(p.PayloadLen))
	if !p.TCPBogus {
		b = append(b, `,"win":`...)
		b = decimal.AppendUint(b, uint64(r.Win))
		b = append(b, `,"win_raw":`...)
		b = decimal.AppendUint(b, uint64(h.Window()))
	}
	b = append(b, `,"analysis":[],"conn":[`...)
	if r.Conn != 0 {
		for i, n := range r.Conn.Names() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), n...), '"')
		}
	}
	b = append(b, `],"hdr_len":`...)
	b = decimal.AppendInt(b, int64(h.HeaderLen()))
	if p.TCPBogus {
		b = append(b, `,"error":"bogus TCP header length"`...)
	} else {
		b = append(b, `,"error":"TCP header truncated","tcp_captured":`...)
		b = decimal.AppendInt(b, int64(len(tp)))
	}
	if p.Truncated {
		b = append(b, `,"frame_len":`...)
		b = decimal.AppendInt(b, int64(m.OrigLen))
		b = append(b, `,"cap_len":`...)
		b = decimal.AppendInt(b, int64(m.CapLen))
	}
	return append(b, "}\n"...)
}

// appendEndsOr writes what comes after rel_time up to the flags: the
// stream (when analysed), the addresses, the tunnels, the ports. done
// reports that the line is whole already (an ICMP error, a TCP header
// that could not be decoded): the caller writes it out as it is.
func (j *JSON) appendEndsOr(b []byte, m frame.Meta, p *decode.Packet, r *analysis.Result) (_ []byte, done bool) {
	if r != nil {
		b = append(b, `,"stream":`...)
		b = decimal.AppendInt(b, int64(r.Stream))
	}
	if p.HasICMP {
		return appendICMP(b, m, p, r), true
	}
	b = append(b, `,"src":"`...)
	b = j.addrs.appendAddr(b, p.Src)
	b = append(b, `","dst":"`...)
	b = j.addrs.appendAddr(b, p.Dst)
	b = append(b, '"')
	if p.NOuter > 0 {
		b = appendOuter(b, p)
	}
	if p.TCP == nil {
		return j.appendPartial(b, m, p, r), true
	}
	b = append(b, `,"sport":`...)
	b = decimal.AppendUint(b, uint64(p.TCP.SrcPort()))
	b = append(b, `,"dport":`...)
	return decimal.AppendUint(b, uint64(p.TCP.DstPort())), false
}

// appendFlags appends the set flags of byte 13 as a JSON array of names,
// the usual sets whole (as appendFlagNames).
func appendFlags(b []byte, f uint8) []byte {
	switch f {
	case decode.FlagACK:
		return append(b, `["ACK"]`...)
	case decode.FlagPSH | decode.FlagACK:
		return append(b, `["ACK","PSH"]`...)
	case decode.FlagFIN | decode.FlagACK:
		return append(b, `["ACK","FIN"]`...)
	case decode.FlagSYN:
		return append(b, `["SYN"]`...)
	case decode.FlagSYN | decode.FlagACK:
		return append(b, `["ACK","SYN"]`...)
	}
	return appendFlagsWalk(b, f)
}

// appendFlagsWalk is appendFlags for any flags: bit by bit.
func appendFlagsWalk(b []byte, f uint8) []byte {
	b = append(b, '[')
	first := true
	for i := 0; i < 8; i++ {
		if f&(0x80>>i) != 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(append(append(b, '"'), decode.FlagName(i)...), '"')
		}
	}
	return append(b, ']')
}

// appendOuter writes the "outer" key: the encapsulations the segment
// travelled in, outermost first, each with the addresses of the IP header
// that carried it (none for MPLS or FabricPath directly on the link) and
// the tunnel's identifier (VNI, TEID, GRE key, ERSPAN session, MPLS label).
func appendOuter(b []byte, p *decode.Packet) []byte {
	b = append(b, `,"outer":[`...)
	for i := 0; i < p.NOuter; i++ {
		o := &p.Outer[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"encap":"`...)
		b = append(b, o.Encap.String()...)
		b = append(b, '"')
		if o.IPVersion() != 0 {
			b = append(b, `,"src":"`...)
			b = o.Src().AppendTo(b)
			b = append(b, `","dst":"`...)
			b = o.Dst().AppendTo(b)
			b = append(b, '"')
		}
		if o.HasID {
			b = append(b, `,"id":`...)
			b = decimal.AppendUint(b, uint64(o.ID))
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendICMP writes the rest of the line for an ICMP error quoting a TCP
// header, with the keys tshark 4.0 gives the quoted header: src, dst and
// ports are the quoted segment's; a header quoted whole has its stream (r),
// flags, seq, ack and window as raw values (no relative numbers, no len)
// and its SYN, FIN or RST in conn; a shorter quote has its ports
// and, in ICMP (not ICMPv6), the sequence number. seq_raw is there only for
// ICMPv6, as tshark shows it. The "icmp" key says what the error is.
func appendICMP(b []byte, m frame.Meta, p *decode.Packet, r *analysis.Result) []byte {
	e := p.ICMP
	t := decode.TCP(e.TCP)
	b = append(b, `,"src":"`...)
	b = e.Src.AppendTo(b)
	b = append(b, `","dst":"`...)
	b = e.Dst.AppendTo(b)
	b = append(b, `","sport":`...)
	b = decimal.AppendUint(b, uint64(t.SrcPort()))
	b = append(b, `,"dport":`...)
	b = decimal.AppendUint(b, uint64(t.DstPort()))
	h := e.Head()
	switch {
	case h != nil:
		b = appendFlags(append(b, `,"flags":`...), h.Flags())
		b = append(b, `,"seq":`...)
		b = decimal.AppendUint(b, uint64(h.Seq()))
		if e.V6 {
			b = append(b, `,"seq_raw":`...)
			b = decimal.AppendUint(b, uint64(h.Seq()))
		}
		b = append(b, `,"ack":`...)
		if h.Has(decode.FlagACK) {
			b = decimal.AppendUint(b, uint64(h.Ack()))
		} else {
			b = append(b, '0')
		}
		b = append(b, `,"ack_raw":`...)
		b = decimal.AppendUint(b, uint64(h.Ack()))
		b = append(b, `,"win":`...)
		b = decimal.AppendUint(b, uint64(h.Window()))
		b = append(b, `,"win_raw":`...)
		b = decimal.AppendUint(b, uint64(h.Window()))
	case !e.V6 && len(e.TCP) >= 8:
		b = append(b, `,"seq":`...)
		b = decimal.AppendUint(b, uint64(t.Seq()))
	}
	b = append(b, `,"analysis":[],"conn":[`...)
	if h != nil {
		switch {
		case h.Has(decode.FlagSYN | decode.FlagACK):
			b = append(b, `"synack"`...)
		case h.Has(decode.FlagSYN):
			b = append(b, `"syn"`...)
		}
		if h.Has(decode.FlagFIN) {
			if h.Has(decode.FlagSYN) {
				b = append(b, ',')
			}
			b = append(b, `"fin"`...)
		}
		if h.Has(decode.FlagRST) {
			if h.Flags()&(decode.FlagSYN|decode.FlagFIN) != 0 {
				b = append(b, ',')
			}
			b = append(b, `"rst"`...)
		}
	}
	b = append(b, `],"icmp":{"version":`...)
	if e.V6 {
		b = append(b, '6')
	} else {
		b = append(b, '4')
	}
	b = append(b, `,"type":`...)
	b = decimal.AppendUint(b, uint64(e.Type))
	b = append(b, `,"code":`...)
	b = decimal.AppendUint(b, uint64(e.Code))
	b = append(b, `,"text":"`...)
	b = append(b, e.Text()...)
	b = append(b, `","from":"`...)
	b = p.Src.AppendTo(b)
	b = append(b, '"')
	if e.MTU != 0 {
		b = append(b, `,"mtu":`...)
		b = decimal.AppendUint(b, uint64(e.MTU))
	}
	if e.Gateway.IsValid() {
		b = append(b, `,"gateway":"`...)
		b = e.Gateway.AppendTo(b)
		b = append(b, '"')
	}
	b = append(b, `,"quoted_bytes":`...)
	b = decimal.AppendInt(b, int64(len(e.TCP)))
	if e.QuotedFrame != 0 {
		b = append(b, `,"quotes_frame":`...)
		b = decimal.AppendInt(b, int64(e.QuotedFrame))
	}
	return append(b, "}}\n"...)
}
