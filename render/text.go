package render

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/decimal"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// Text prints one line per TCP segment, in the spirit of tcpdump but with
// the analyzer's note at the end:
//
//	#3   0.000101  127.0.0.1:55920 → 127.0.0.1:7000  [ACK]  seq 1 ack 1 len 0 win 65536  ▸ handshake 3/3: connection established in 41 µs
//
// Each line is appended into a buffer the Text keeps and reuses, with
// strconv rather than fmt, and written with one Write: a replay prints
// millions of lines, and without colour a line costs no allocation. (With
// colour on, each coloured piece goes through fatih/color, which allocates;
// that is only for terminals, which are slower than that anyway.)
type Text struct {
	W        io.Writer
	Theme    Theme
	Absolute bool      // print raw sequence numbers instead of relative ones (tcpdump -S)
	Start    time.Time // time 0 for the relative-time column (the first frame)
	// HeadersOnly: the capture kept only the headers of each frame on
	// purpose (tcpscope capture without -w), so a cut payload is expected
	// and not marked "snaplen: …" on every line.
	HeadersOnly bool
	// Time is the time column's format (tcpdump's -t … -ttttt); the zero
	// value is the time since Start.
	Time TimeFormat
	prev time.Time // the previous line's frame time, for TimeDelta
	rel  relClock  // the relative time's subtraction (see JSON's)
	// StrSize, when > 0, names the bytes a data segment carried at the end
	// of its note, quoted as strace quotes a write's buffer and cut after
	// StrSize bytes (strace's -s): the same text as the write that sent
	// them. A payload that starts with an HTTP request or status line is
	// named by that line instead ("HTTP request: GET /index.html HTTP/1.1").
	// Call lines cut their buffers at StrSize too (0: strace's 32).
	StrSize int
	// Width, when set, is the terminal's width in columns: segments take
	// the compact layout (ports instead of addresses when the addresses do
	// not fit, no options: --explain shows them) and a note that does not
	// fit goes under the line, indented, wrapped at Width. 0 prints the
	// full line whatever its length (pipes, files, --wide).
	Width int
	// ASCII spells → ▸ µ as -> > us (--ascii, or a locale without UTF-8).
	ASCII bool
	buf   []byte
	addrs addrTexts // the last endpoints' text
	ts    tsTexts   // the last timestamps' text, per flow
	flows flowTexts // the ends' text, per flow
}

// paintFrom colours b[from:] with c when colour is on. Small enough to be
// inlined: without colour (a pipe, a file) a line's six calls cost a
// comparison each.
func (t *Text) paintFrom(b []byte, from int, c *color.Color) []byte {
	if !t.Theme.Enabled || c == nil {
		return b
	}
	return paint(b, from, c)
}

// paint colours b[from:] with c. Not inlined, so that paintFrom is.
//
//go:noinline
func paint(b []byte, from int, c *color.Color) []byte {
	s := c.Sprint(string(b[from:]))
	return append(b[:from], s...)
}

// Segment prints one analyzed TCP segment. r may be nil (no analysis).
func (t *Text) Segment(m frame.Meta, p *decode.Packet, r *analysis.Result) error {
	return t.SegmentWith(m, p, r, nil)
}

// SegmentWith is Segment with the TCP state changes the segment caused
// (see tcpstate), written after the note: "client: SYN-SENT → ESTABLISHED".
func (t *Text) SegmentWith(m frame.Meta, p *decode.Packet, r *analysis.Result, states []tcpstate.Change) error {
	th := &t.Theme
	if t.Width > 0 {
		return t.compact(m, p, r, states)
	}
	b := t.appendHead(t.buf[:0], m)
	if p.HasICMP {
		return t.flush(append(t.icmp(b, p, r), '\n'))
	}
	if p.TCP == nil {
		return t.flush(append(t.partial(b, m, p, r), '\n'))
	}
	b = t.appendEnds(b, p)
	b = t.appendNumbers(b, p, r)
	b = append(b, "  "...)
	at := len(b)
	// SACK edges are in the other side's sequence space, the one the ACK
	// number counts in: shown relative to it, as Wireshark does, whenever
	// seq/ack are relative too.
	var sackBase uint32
	if r != nil && !t.Absolute && p.TCP.Has(decode.FlagACK) {
		sackBase = p.TCP.Ack() - r.Ack
	}
	b = t.ts.appendOptions(append(b, '<'), p, sackBase)
	if len(b) == at+1 {
		b = b[:at-2] // no options: no "  <>"
	} else {
		b = t.paintFrom(append(b, '>'), at, th.dim)
	}
	b = t.appendTail(b, m, p, r, states)
	return t.flush(append(b, '\n'))
}

// appendEnds is appendAddrs(b, p, false), the text copied from the flow's
// last line when there is no colour to apply.
func (t *Text) appendEnds(b []byte, p *decode.Packet) []byte {
	if t.Theme.Enabled {
		return t.appendAddrs(b, p, false)
	}
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	arrow := 0 // the text's arrow is part of the key
	if t.ASCII {
		arrow = 1
	}
	e, ok := t.flows.lookup(src, dst, arrow)
	if ok {
		return append(b, e.text[:e.n]...)
	}
	at := len(b)
	b = t.appendAddrs(b, p, false)
	e.keep(src, dst, arrow, b[at:])
	return b
}

// appendAddrs appends "src → dst  " (ports only when short), coloured.
func (t *Text) appendAddrs(b []byte, p *decode.Packet, short bool) []byte {
	th := &t.Theme
	at := len(b)
	if short {
		b = decimal.AppendUint(b, uint64(p.TCP.SrcPort()))
	} else {
		b = t.addrs.appendAddrPort(b, p.SrcAddrPort())
	}
	b = t.paintFrom(b, at, th.addr)
	b = append(b, t.arrow()...)
	at = len(b)
	if short {
		b = decimal.AppendUint(b, uint64(p.TCP.DstPort()))
	} else {
		b = t.addrs.appendAddrPort(b, p.DstAddrPort())
	}
	b = t.paintFrom(b, at, th.addr)
	return append(b, "  "...)
}

func (t *Text) arrow() string {
	if t.ASCII {
		return " -> "
	}
	return " → "
}

// appendNumbers appends "[flags]  seq S ack A len L win W".
func (t *Text) appendNumbers(b []byte, p *decode.Packet, r *analysis.Result) []byte {
	at := len(b)
	b = appendFlagNames(append(b, '['), p.TCP.Flags())
	b = append(b, ']')
	b = t.paintFrom(b, at, t.Theme.flags)
	seq, ack := p.TCP.Seq(), p.TCP.Ack()
	win := uint32(p.TCP.Window())
	if r != nil {
		// -S (Absolute) is about sequence numbers only, as tcpdump's -S:
		// the window stays scaled (the bytes the receiver can take).
		win = r.Win
		if !t.Absolute {
			seq, ack = r.Seq, r.Ack
		}
	}
	b = decimal.AppendUint(append(b, "  seq "...), uint64(seq))
	if p.TCP.Has(decode.FlagACK) {
		b = decimal.AppendUint(append(b, " ack "...), uint64(ack))
	}
	b = decimal.AppendInt(append(b, " len "...), int64(p.PayloadLen))
	return decimal.AppendUint(append(b, " win "...), uint64(win))
}

// appendTail appends the warnings, the note and the state changes, each
// after two spaces.
func (t *Text) appendTail(b []byte, m frame.Meta, p *decode.Packet, r *analysis.Result, states []tcpstate.Change) []byte {
	th := &t.Theme
	var at int
	if p.Options.Malformed != "" {
		b = append(b, "  "...)
		at = len(b)
		b = append(append(b, "malformed "...), p.Options.Malformed...)
		b = t.paintFrom(b, at, th.warn)
	}
	if p.TCPChecksum == decode.ChecksumBad {
		b = append(b, "  "...)
		at = len(b)
		b = t.paintFrom(append(b, "bad checksum"...), at, th.warn)
	}
	if p.TCPShort {
		// The IP length leaves less room than the TCP header claims.
		b = append(b, "  "...)
		at = len(b)
		b = append(b, "short segment: the IP packet has less room than its "...)
		b = decimal.AppendInt(b, int64(p.TCP.HeaderLen()))
		b = append(b, "-byte TCP header (not analysed, as in Wireshark)"...)
		b = t.paintFrom(b, at, th.warn)
	} else if p.Truncated && !(t.HeadersOnly && p.TCP != nil) {
		// Cut by the snaplen: the analysis used the lengths on the wire
		// (from the IP header), but the bytes shown stop early.
		b = append(b, "  "...)
		at = len(b)
		b = append(b, "snaplen: "...)
		b = decimal.AppendInt(b, int64(m.CapLen))
		b = append(b, " of "...)
		b = decimal.AppendInt(b, int64(m.OrigLen))
		b = append(b, " bytes captured"...)
		b = t.paintFrom(b, at, th.warn)
	}
	hasNote := r != nil && !r.Note.IsZero()
	if hasNote || len(states) > 0 {
		b = append(b, "  "...)
		if t.ASCII {
			b = append(b, "> "...)
		} else {
			b = append(b, "▸ "...)
		}
	}
	if hasNote {
		at = len(b)
		b = r.Note.AppendTo(b)
		if t.StrSize > 0 {
			b = AppendPayloadNote(b, p.Payload, p.PayloadLen, t.StrSize)
		}
		if t.ASCII {
			b = append(b[:at], ASCIIGlyphs.Replace(string(b[at:]))...)
		}
		b = t.paintFrom(b, at, th.severity(r.Severity))
	}
	if len(states) > 0 { // most segments change no state
		b = AppendStates(b, states, hasNote, t.ASCII, t.Theme)
	}
	return b
}

// AppendStates appends state changes, "; " between them (and before the
// first when more is true), in bold; two changes of one end in a row are
// written as one path: "client: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT".
func AppendStates(b []byte, states []tcpstate.Change, more, ascii bool, th Theme) []byte {
	arrow := "→"
	if ascii {
		arrow = "->"
	}
	at := len(b)
	for i, c := range states {
		if i > 0 && states[i-1].End == c.End && states[i-1].To == c.From {
			b = append(append(append(b, ' '), arrow...), ' ')
			b = append(b, c.To.String()...)
			continue
		}
		if i > 0 || more {
			b = t0paint(b, at, th)
			b = append(b, "; "...)
		}
		at = len(b)
		b = c.AppendTo(b, arrow)
	}
	return t0paint(b, at, th)
}

// t0paint colours b[from:] bold when colour is on.
func t0paint(b []byte, from int, th Theme) []byte {
	if !th.Enabled || from >= len(b) {
		return b
	}
	s := th.bold.Sprint(string(b[from:]))
	return append(b[:from], s...)
}

// numbersRoom is the room the compact layout keeps for the flags and
// numbers before it shows addresses rather than ports.
const numbersRoom = 44

// compact is SegmentWith for a terminal of t.Width columns.
func (t *Text) compact(m frame.Meta, p *decode.Packet, r *analysis.Result, states []tcpstate.Change) error {
	b := t.appendHead(t.buf[:0], m)
	if p.TCP == nil {
		b = append(b, "TCP header cut short by the snaplen ("...)
		b = decimal.AppendInt(b, int64(len(p.TCPPartial)))
		b = append(b, " of 20 bytes captured)"...)
		t.buf = Wrap(t.buf[:0], string(b), t.Width, 8)
		return t.flush(t.buf)
	}
	head := len(b)
	// Addresses when they leave room for the numbers of a typical segment
	// ("[SYN,ACK]  seq 1 ack 1 len 0 win 65535" and more), so a terminal
	// shows them on every line or on none; ports alone otherwise.
	b = t.appendAddrs(b, p, false)
	full := Width(string(b))+numbersRoom <= t.Width
	b = t.appendNumbers(b, p, r)
	if !full || Width(string(b)) > t.Width {
		b = t.appendAddrs(b[:head], p, true)
		b = t.appendNumbers(b, p, r)
	}
	line := len(b)
	b = t.appendTail(b, m, p, r, states)
	if Width(string(b)) <= t.Width {
		return t.flush(append(b, '\n'))
	}
	// The note under the line, indented, wrapped. A line still too wide
	// (raw sequence numbers on a narrow terminal) puts its numbers under
	// the flags, whole.
	first, tail := string(b[:line]), strings.TrimLeft(string(b[line:]), " ")
	b = b[:0]
	if i := strings.Index(first[head:], "  seq "); i >= 0 && Width(first) > t.Width {
		b = Wrap(b, first[:head+i], t.Width, 8)
		b = Wrap(b, "        "+first[head+i+2:], t.Width, 8)
	} else {
		b = Wrap(b, first, t.Width, 8)
	}
	if tail != "" {
		b = Wrap(b, "        "+tail, t.Width, 10)
	}
	return t.flush(b)
}

// appendHead appends the frame number and relative time columns, dimmed.
func (t *Text) appendHead(b []byte, m frame.Meta) []byte {
	at := len(b)
	b = decimal.AppendInt(append(b, '#'), int64(m.Number))
	b = padTo(b, at, 6)
	b = t.paintFrom(b, at, t.Theme.dim)
	b = append(b, ' ')
	at = len(b)
	if t.Time == TimeNone {
		return append(b, ' ')
	}
	b = appendTime(b, t.Time, m.Time, t.Start, t.prev, &t.rel)
	t.prev = m.Time
	b = t.paintFrom(b, at, t.Theme.dim)
	return append(b, "  "...)
}

// flush writes the line and keeps the (possibly grown) buffer for the next.
func (t *Text) flush(b []byte) error {
	t.buf = b
	_, err := t.W.Write(b)
	return err
}

// Problem prints a frame that could not be decoded, with the reason.
func (t *Text) Problem(m frame.Meta, err error) error {
	head := strings.TrimRight(string(t.appendHead(nil, m)), " ")
	_, werr := fmt.Fprintf(t.W, "%s  %s\n", head, t.Theme.Warn("frame "+strconv.Itoa(m.Number)+": "+decode.Message(err)))
	return werr
}

// severity returns the colour of a Wireshark expert level: chat green, note
// yellow, warn and error red; nil (uncoloured) for none.
func (t *Theme) severity(s analysis.Severity) *color.Color {
	switch s {
	case analysis.SeverityChat:
		return t.chat
	case analysis.SeverityNote:
		return t.note
	case analysis.SeverityWarn:
		return t.warn
	case analysis.SeverityError:
		return t.err
	}
	return nil
}

// SeverityColor colours s by a Wireshark expert level: chat green, note
// yellow, warn and error red.
func SeverityColor(th Theme, s analysis.Severity, text string) string {
	return th.paint(th.severity(s), text)
}

// RelTime formats the time since start as seconds with microseconds.
func RelTime(t, start time.Time) string {
	return string(appendRelTime(nil, t, start, nil))
}

// appendRelTime is RelTime appending to b, subtracting with rel when a
// renderer has one (its start taken apart once: see relClock).
func appendRelTime(b []byte, t, start time.Time, rel *relClock) []byte {
	at := len(b)
	if rel != nil {
		b = appendSeconds6(b, rel.since(t, start))
	} else {
		b = appendSeconds6(b, t.Sub(start))
	}
	return padTo(b, at, 10)
}

// appendSeconds6 appends d in seconds with six decimals exactly as
// strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) does, from the integer
// nanoseconds (float formatting was a tenth of a replay's rendering): the
// microseconds rounded half up. That is the float's rounding too unless d
// ends in exactly 500 ns (the float then lies a hair above or below the
// half) or is negative or too large for float64(d)/1e9 to be within half
// a nanosecond of d (see maxExactSeconds): strconv does those.
func appendSeconds6(b []byte, d time.Duration) []byte {
	if d < 0 || d >= maxExactSeconds || d%1000 == 500 {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
	}
	us := (int64(d) + 500) / 1000
	b = decimal.AppendInt(b, us/1e6)
	return appendFrac6(append(b, '.'), int(us%1e6))
}

// padTo pads b[from:] with spaces to n bytes (in one append: every line
// pads its frame number and its time).
func padTo(b []byte, from, n int) []byte {
	const spaces = "                "
	k := n - (len(b) - from)
	for k > len(spaces) {
		b = append(b, spaces...)
		k -= len(spaces)
	}
	if k > 0 {
		b = append(b, spaces[:k]...)
	}
	return b
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// FlagNames lists the set TCP flags in the order of Wireshark's Info column,
// least significant bit first: "SYN, ACK", "PSH, ACK", "FIN, ACK" — the
// spelling students already see in Wireshark. (The JSON output keeps the
// spec's order, CWR … FIN.)
func FlagNames(f uint8) []string {
	var out []string
	for i := 7; i >= 0; i-- {
		if f&(0x80>>i) != 0 {
			out = append(out, decode.FlagName(i))
		}
	}
	if len(out) == 0 {
		out = []string{"none"}
	}
	return out
}

// appendFlagNames appends FlagNames(f) joined by commas. The usual sets
// are written whole: the loop over eight bits was 1 % of replay's
// instructions.
func appendFlagNames(b []byte, f uint8) []byte {
	switch f {
	case decode.FlagACK:
		return append(b, "ACK"...)
	case decode.FlagPSH | decode.FlagACK:
		return append(b, "PSH,ACK"...)
	case decode.FlagFIN | decode.FlagACK:
		return append(b, "FIN,ACK"...)
	case decode.FlagSYN:
		return append(b, "SYN"...)
	case decode.FlagSYN | decode.FlagACK:
		return append(b, "SYN,ACK"...)
	}
	return appendFlagNamesWalk(b, f)
}

// appendFlagNamesWalk is appendFlagNames for any flags: bit by bit.
func appendFlagNamesWalk(b []byte, f uint8) []byte {
	if f == 0 {
		return append(b, "none"...)
	}
	first := true
	for i := 7; i >= 0; i-- {
		if f&(0x80>>i) != 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, decode.FlagName(i)...)
		}
	}
	return b
}

// OptionsShort lists the TCP options in tcpdump's short form:
// "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7".
func OptionsShort(p *decode.Packet) string {
	return string(AppendOptionsShort(nil, p))
}

// AppendOptionsShort is OptionsShort appending to b; it allocates nothing
// when b has room. The text is plain ASCII with no quote or backslash, so
// JSON can embed it as is.
func AppendOptionsShort(b []byte, p *decode.Packet) []byte {
	return appendOptions(b, p, 0)
}

// appendOptions writes the short form with SACK edges minus sackBase
// (0: raw sequence numbers).
func appendOptions(b []byte, p *decode.Packet, sackBase uint32) []byte {
	// NOP, NOP, timestamps: nearly every segment after the handshake (see
	// decode.ParseOptions), written without walking the options.
	if isNopNopTS(p.TCP) {
		return appendNopNopTS(b, p.TCP)
	}
	return appendOptionsWalk(b, p, sackBase)
}

// appendOptionsWalk is appendOptions for any options: each in turn.
func appendOptionsWalk(b []byte, p *decode.Packet, sackBase uint32) []byte {
	it := decode.NewOptionIter(p.TCP)
	first := true
	for it.Next() {
		if !first {
			b = append(b, ',')
		}
		first = false
		o := it.Option()
		switch o.Kind {
		case decode.OptEOL:
			b = append(b, "eol"...)
		case decode.OptNOP:
			b = append(b, "nop"...)
		case decode.OptMSS:
			b = decimal.AppendUint(append(b, "mss "...), uint64(decode.Ntohs(o.Data)))
		case decode.OptWScale:
			b = decimal.AppendUint(append(b, "wscale "...), uint64(o.Data[0]))
		case decode.OptSACKPerm:
			b = append(b, "sackOK"...)
		case decode.OptSACK:
			b = append(b, "sack "...)
			for i := 0; i+8 <= len(o.Data); i += 8 {
				if i > 0 {
					b = append(b, ' ')
				}
				b = decimal.AppendUint(b, uint64(decode.Ntohl(o.Data[i:])-sackBase))
				b = append(b, ':')
				b = decimal.AppendUint(b, uint64(decode.Ntohl(o.Data[i+4:])-sackBase))
			}
		case decode.OptTimestamp:
			b = decimal.AppendUint(append(b, "TS val "...), uint64(decode.Ntohl(o.Data)))
			b = decimal.AppendUint(append(b, " ecr "...), uint64(decode.Ntohl(o.Data[4:])))
		case decode.OptMD5:
			b = append(b, "md5"...)
		case decode.OptMPTCP:
			b = append(b, "mptcp"...)
		case decode.OptFastOpen:
			b = append(b, "tfo"...)
		default:
			b = decimal.AppendUint(append(b, "opt-"...), uint64(o.Kind))
		}
	}
	return b
}

// partial appends what can be shown of a TCP header that was not decoded
// whole: cut by the snaplen, or with a data offset below 5.
func (t *Text) partial(b []byte, m frame.Meta, p *decode.Packet, r *analysis.Result) []byte {
	th := &t.Theme
	h := p.TCPHead()
	tp := p.TCPPartial
	at := len(b)
	if len(tp) >= 4 {
		b = netip.AddrPortFrom(p.Src, decode.Ntohs(tp)).AppendTo(b)
	} else {
		b = p.Src.AppendTo(b)
	}
	b = t.paintFrom(b, at, th.addr)
	b = append(b, " → "...)
	at = len(b)
	if len(tp) >= 4 {
		b = netip.AddrPortFrom(p.Dst, decode.Ntohs(tp[2:])).AppendTo(b)
	} else {
		b = p.Dst.AppendTo(b)
	}
	b = t.paintFrom(b, at, th.addr)
	b = append(b, "  "...)
	if h != nil {
		seq, ack, win := h.Seq(), h.Ack(), uint32(h.Window())
		if r != nil && !t.Absolute {
			seq, ack, win = r.Seq, r.Ack, r.Win
		}
		if !p.TCPBogus {
			at = len(b)
			b = appendFlagNames(append(b, '['), h.Flags())
			b = t.paintFrom(append(b, ']'), at, th.flags)
			b = append(b, "  "...)
		}
		b = decimal.AppendUint(append(b, "seq "...), uint64(seq))
		if !p.TCPBogus && h.Has(decode.FlagACK) {
			b = decimal.AppendUint(append(b, " ack "...), uint64(ack))
		}
		b = decimal.AppendInt(append(b, " len "...), int64(p.PayloadLen))
		if !p.TCPBogus {
			b = decimal.AppendUint(append(b, " win "...), uint64(win))
		}
		b = append(b, "  "...)
	}
	at = len(b)
	switch {
	case p.TCPBogus && len(tp) > 12:
		b = append(b, "bogus TCP header length ("...)
		b = decimal.AppendInt(b, int64(decode.TCP(tp).HeaderLen()))
		b = append(b, " bytes, must be at least 20)"...)
	default:
		b = append(b, "TCP header cut short by the snaplen ("...)
		b = decimal.AppendInt(b, int64(len(tp)))
		b = append(b, " of 20 bytes captured)"...)
	}
	if h != nil {
		b = append(b, ": not analysed, as in Wireshark"...)
	}
	return t.paintFrom(b, at, th.warn)
}

// icmp appends the line of an ICMP error quoting a TCP header:
//
//	192.0.2.1 → 127.0.0.1  ICMP fragmentation needed, MTU 1400, for the segment in #812 (127.0.0.1:52716 → 127.0.0.1:80 seq 1)
//
// "fragmentation needed" for a segment that keeps being resent is the
// classic clue of a path-MTU black hole.
func (t *Text) icmp(b []byte, p *decode.Packet, r *analysis.Result) []byte {
	th := &t.Theme
	e := p.ICMP
	at := len(b)
	b = p.Src.AppendTo(b)
	b = t.paintFrom(b, at, th.addr)
	b = append(b, " → "...)
	at = len(b)
	b = p.Dst.AppendTo(b)
	b = t.paintFrom(b, at, th.addr)
	b = append(b, "  "...)
	at = len(b)
	if e.V6 {
		b = append(b, "ICMPv6 "...)
	} else {
		b = append(b, "ICMP "...)
	}
	b = append(b, e.Text()...)
	if e.MTU != 0 {
		b = decimal.AppendUint(append(b, ", MTU "...), uint64(e.MTU))
	}
	if e.Gateway.IsValid() {
		b = e.Gateway.AppendTo(append(b, ", use gateway "...))
	}
	if e.QuotedFrame != 0 {
		b = decimal.AppendInt(append(b, ", for the segment in #"...), int64(e.QuotedFrame))
	} else {
		b = append(b, ", for a segment not in the capture"...)
	}
	b = t.paintFrom(b, at, th.warn)
	tc := decode.TCP(e.TCP)
	b = append(b, " ("...)
	b = netip.AddrPortFrom(e.Src, tc.SrcPort()).AppendTo(b)
	b = append(b, " → "...)
	b = netip.AddrPortFrom(e.Dst, tc.DstPort()).AppendTo(b)
	if h := e.Head(); h != nil {
		b = appendFlagNames(append(b, "  ["...), h.Flags())
		b = append(b, ']')
	}
	if len(e.TCP) >= 8 {
		b = decimal.AppendUint(append(b, " seq "...), uint64(tc.Seq()))
	}
	if e.Head() == nil {
		b = decimal.AppendInt(append(b, ", "...), int64(len(e.TCP)))
		b = append(b, " bytes of its TCP header quoted"...)
	}
	return append(b, ')')
}
