package session

import (
	"bufio"
	"encoding/json"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/internal/decimal"
)

// statsHeader is the text table's first row; "c→s" is what the client
// sent, "s→c" what the server sent.
var statsHeader = [...]string{"stream", "client", "server", "start", "duration", "pkts c→s", "pkts s→c", "bytes c→s", "bytes s→c",
	"data c→s", "data s→c", "handshake", "retrans", "dup acks", "zero win", "ended"}

// statsCells is how many cells a row of the table has.
const statsCells = len(statsHeader)

// rowText is one row of the table as text: its cells one after the other
// in text, cell i from begin[i] to end[i], taking width[i] columns. With
// pad set, each cell but the last is followed by spaces up to pad[i]
// columns as it ends, and text is the row as printed. Rows are written
// into one reused rowText, so the table costs no allocation per
// connection (a capture can have hundreds of thousands of them).
type rowText struct {
	text       []byte
	at         int // where the next cell begins
	begin, end [statsCells]int
	width      [statsCells]int
	pad        *[statsCells - 1]int
}

// cell returns cell i.
func (r *rowText) cell(i int) []byte { return r.text[r.begin[i]:r.end[i]] }

// reset starts a row.
func (r *rowText) reset() { r.text, r.at = r.text[:0], 0 }

// finish ends cell i, w columns wide, where the text ends now, and pads it
// (with pad set).
func (r *rowText) finish(i, w int) {
	r.begin[i], r.end[i], r.width[i] = r.at, len(r.text), w
	if r.pad != nil && i < len(r.pad) {
		for n := r.pad[i] - w; n > 0; n -= len(spaces) {
			r.text = append(r.text, spaces[:min(n, len(spaces))]...)
		}
	}
	r.at = len(r.text)
}

// mark ends cell i where the text ends now: a cell of ASCII only (digits,
// seconds), as wide as it is long.
func (r *rowText) mark(i int) { r.finish(i, len(r.text)-r.at) }

// markText is mark for a cell that may hold other characters ("→", "µs",
// an IPv6 zone): its width is counted in runes, as tabwriter counts it.
// (Counting every cell was a tenth of the table's cost.)
func (r *rowText) markText(i int) { r.finish(i, utf8.RuneCount(r.text[r.at:])) }

// markAddr is mark for a cell that holds ap's text (and ASCII after it).
func (r *rowText) markAddr(i int, ap netip.AddrPort) { r.finish(i, addrTextWidth(r.text[r.at:], ap)) }

// addrTextWidth is the width of b, text that holds ap's: its length, as
// an address's text is ASCII unless it has a zone ("fe80::1%eth0"), which
// may be any text and is counted in runes.
func addrTextWidth(b []byte, ap netip.AddrPort) int {
	if ap.Addr().Zone() == "" {
		return len(b)
	}
	return utf8.RuneCount(b)
}

// appendSeconds3 appends d in seconds with three decimals ("0.125"),
// exactly as strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64) does, but in
// whole numbers where it can (millis): the float's formatting was a third
// of the table's cost (the big.pcap of make bench has 20 000 rows, two
// cells each).
func appendSeconds3(b []byte, d time.Duration) []byte {
	ms, ok := millis(d)
	if !ok {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
	}
	b = decimal.AppendInt(b, ms/1000)
	f := ms % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// millis returns d rounded to whole milliseconds as d.Seconds() rounds to
// three decimals, and false when it cannot say. d is whole nanoseconds, so
// unless it lies exactly halfway between two milliseconds it is at least
// 1 ns from halfway, far more than d.Seconds() can be off below a million
// seconds (a ulp of 1e6 is 1.2e-10): the float and the integer round the
// same way. Ties (which the float may round either way: 0.0625 is exact,
// 1.0005 is not), negative and larger durations are left to the float.
func millis(d time.Duration) (int64, bool) {
	ms, rem := d/time.Millisecond, d%time.Millisecond
	if d < 0 || d >= 1e6*time.Second || rem == 500*time.Microsecond {
		return 0, false
	}
	if rem > 500*time.Microsecond {
		ms++
	}
	return int64(ms), true
}

// measure sets width to the widths of c's cells but the last, as conn
// writes them, mostly without writing them: the first of WriteStatsText's
// two passes needs only the widths, and counting digits is a fraction of
// writing them (TestMeasureIsWritten holds the two together).
func (r *rowText) measure(c *Conn, first time.Time) {
	w := &r.width
	w[0] = intWidth(int64(c.Stream))
	w[1] = r.addrWidth(c.Client)
	if c.ClientGuessed {
		w[1]++
	}
	w[2] = r.addrWidth(c.Server)
	w[3] = r.secondsWidth(c.First.Sub(first))
	w[4] = r.secondsWidth(c.Duration())
	for d := range 2 {
		w[5+d] = intWidth(int64(c.Packets[d]))
		w[7+d] = intWidth(int64(c.Bytes[d]))
		w[9+d] = intWidth(int64(c.Payload[d]))
	}
	w[11] = 1 // "-"
	if c.HasHandshake {
		r.text = analysis.AppendDuration(r.text[:0], c.Handshake)
		w[11] = utf8.RuneCount(r.text)
	}
	w[12], w[13], w[14] = intWidth(int64(c.Retransmissions)), intWidth(int64(c.DupAcks)), intWidth(int64(c.ZeroWindows))
}

// intWidth is the number of characters of v in decimal.
func intWidth(v int64) int {
	if v < 0 {
		return 1 + decimal.Len(uint64(^v)+1)
	}
	return decimal.Len(uint64(v))
}

// addrWidth is the width of ap as AddrPort.AppendTo writes it: counted
// for IPv4 ("a.b.c.d:port"), written (into text, as scratch) otherwise.
func (r *rowText) addrWidth(ap netip.AddrPort) int {
	if a := ap.Addr(); a.Is4() {
		b := a.As4()
		return decimal.Len(uint64(b[0])) + decimal.Len(uint64(b[1])) + decimal.Len(uint64(b[2])) + decimal.Len(uint64(b[3])) +
			len("...:") + decimal.Len(uint64(ap.Port()))
	}
	r.text = ap.AppendTo(r.text[:0])
	return addrTextWidth(r.text, ap)
}

// secondsWidth is the width of appendSeconds3's text for d.
func (r *rowText) secondsWidth(d time.Duration) int {
	if ms, ok := millis(d); ok {
		return decimal.Len(uint64(ms/1000)) + len(".000")
	}
	r.text = appendSeconds3(r.text[:0], d)
	return len(r.text)
}

// conn writes c's row: stream, client (marked "?" when guessed: no
// handshake in the capture), server, start (seconds from first) and
// duration, packets, bytes and payload each way, the handshake's
// duration from the first SYN in the words of the replay summary ("17
// µs", "-" without one), retransmissions, duplicate ACKs, zero windows
// and how it ended.
func (r *rowText) conn(c *Conn, first time.Time) {
	r.reset()
	r.text = decimal.AppendInt(r.text, int64(c.Stream))
	r.mark(0)
	r.text = c.Client.AppendTo(r.text)
	if c.ClientGuessed {
		r.text = append(r.text, '?')
	}
	r.markAddr(1, c.Client)
	r.text = c.Server.AppendTo(r.text)
	r.markAddr(2, c.Server)
	r.text = appendSeconds3(r.text, c.First.Sub(first))
	r.mark(3)
	r.text = appendSeconds3(r.text, c.Duration())
	r.mark(4)
	r.counts(5, c)
	if c.HasHandshake {
		r.text = analysis.AppendDuration(r.text, c.Handshake)
	} else {
		r.text = append(r.text, '-')
	}
	r.markText(11)
	r.ints(12, c.Retransmissions, c.DupAcks, c.ZeroWindows)
	r.text = append(r.text, c.Ending()...)
	r.markText(15)
}

// counts writes cells i to i+5: packets, bytes and payload each way.
func (r *rowText) counts(i int, c *Conn) {
	r.ints(i, c.Packets[0], c.Packets[1], c.Bytes[0], c.Bytes[1], c.Payload[0], c.Payload[1])
}

// ints writes vs as cells from i on.
func (r *rowText) ints(i int, vs ...int) {
	for k, v := range vs {
		r.text = decimal.AppendInt(r.text, int64(v))
		r.mark(i + k)
	}
}

// total writes the totals row: "total", how many connections, nothing for
// the server, the first start and the whole span, the sums of the counts,
// nothing for the handshake and the ending.
func (r *rowText) total(t *Conn, n int, first time.Time) {
	r.reset()
	r.text = append(r.text, "total"...)
	r.mark(0)
	r.text = append(decimal.AppendInt(r.text, int64(n)), " connection"...)
	if n != 1 {
		r.text = append(r.text, 's')
	}
	r.mark(1)
	r.mark(2)
	r.text = appendSeconds3(r.text, t.First.Sub(first))
	r.mark(3)
	r.text = appendSeconds3(r.text, t.Last.Sub(t.First))
	r.mark(4)
	r.counts(5, t)
	r.mark(11)
	r.ints(12, t.Retransmissions, t.DupAcks, t.ZeroWindows)
	r.mark(15)
}

// header writes the header row.
func (r *rowText) header() {
	r.reset()
	for i, h := range statsHeader {
		r.text = append(r.text, h...)
		r.markText(i)
	}
}

// spaces pads cells: a slice of it, a write or two, instead of a byte at
// a time.
const spaces = "                                "

// WriteStatsText prints conns as stats's table, with aligned columns,
// exactly as a text/tabwriter (padding 2, spaces) would, but without
// holding the whole table's text: tabwriter keeps every cell until Flush,
// which for a capture of a hundred thousand connections is tens of
// megabytes. Instead the rows are gone through twice: once to measure the
// columns (rowText.measure counts digits), once to print, each row written
// padded into one reused buffer. Every cell but a row's last ends a
// column (the totals row's last is empty: tabwriter padded that
// tab-terminated cell to nothing). first is the capture's first frame's
// time: starts are counted from it.
//
// (It was in cmd/tcpscope, building sixteen strings per row twice and
// padding a byte at a time: on make bench's big.pcap, whose 20 000
// connections end in as many rows, 3 % of stats's instructions. Each row
// then cost about 8 800 instructions, 4 200 now.)
func WriteStatsText(w io.Writer, conns iter.Seq[Conn], first time.Time) error {
	var r rowText
	var width [statsCells - 1]int
	widest := func() {
		for i := range width {
			width[i] = max(width[i], r.width[i]+2)
		}
	}
	r.header()
	widest()
	var t Conn
	n := 0
	for c := range conns {
		t.addTo(&c, n == 0)
		n++
		r.measure(&c, first)
		widest()
	}
	t.Stream = -1
	r.total(&t, n, first)
	widest()
	// Each row is written padded (rowText.pad), and goes out whole: one
	// Write a row.
	bw := bufio.NewWriterSize(w, 64<<10)
	r.pad = &width
	writeRow := func() { bw.Write(append(r.text, '\n')) }
	r.header()
	writeRow()
	for c := range conns {
		r.conn(&c, first)
		writeRow()
	}
	r.total(&t, n, first)
	writeRow()
	return bw.Flush()
}

// statsJSON is one row of "stats --json". Times are seconds (start: from
// the capture's first frame); byte counts are whole frames ("bytes") and
// TCP payload ("payload").
type statsJSON struct {
	Stream          *int      `json:"stream,omitempty"`
	Client          string    `json:"client,omitempty"`
	Server          string    `json:"server,omitempty"`
	ClientGuessed   bool      `json:"client_guessed,omitempty"`
	Start           float64   `json:"start"`
	Duration        float64   `json:"duration"`
	Packets         sidesJSON `json:"packets"`
	Bytes           sidesJSON `json:"bytes"`
	Payload         sidesJSON `json:"payload"`
	HandshakeRTT    *float64  `json:"handshake_rtt,omitempty"` // Wireshark's initial RTT (from the latest SYN)
	Handshake       *float64  `json:"handshake,omitempty"`     // from the first SYN, as the summaries say
	Retransmissions int       `json:"retransmissions"`
	DupAcks         int       `json:"dup_acks"`
	ZeroWindows     int       `json:"zero_windows"`
	Ended           string    `json:"ended,omitempty"`
	Connections     int       `json:"connections,omitempty"`
}

type sidesJSON struct {
	Client int `json:"client"`
	Server int `json:"server"`
}

// WriteStatsJSON writes conns as {"connections": [...], "totals": {...}},
// indented as encoding/json's MarshalIndent would, but one row at a time:
// the rows of a large capture are never all held as JSON values at once.
func WriteStatsJSON(w io.Writer, conns iter.Seq[Conn], first time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"connections\": [")
	i := 0
	for c := range conns {
		stream := c.Stream
		r := statsJSON{Stream: &stream, Client: c.Client.String(), Server: c.Server.String(), ClientGuessed: c.ClientGuessed,
			Start: c.First.Sub(first).Seconds(), Duration: c.Duration().Seconds(),
			Packets: sidesJSON{c.Packets[0], c.Packets[1]}, Bytes: sidesJSON{c.Bytes[0], c.Bytes[1]},
			Payload:         sidesJSON{c.Payload[0], c.Payload[1]},
			Retransmissions: c.Retransmissions, DupAcks: c.DupAcks, ZeroWindows: c.ZeroWindows, Ended: c.Ending()}
		if c.HasHandshakeRTT {
			v := c.HandshakeRTT.Seconds()
			r.HandshakeRTT = &v
		}
		if c.HasHandshake {
			v := c.Handshake.Seconds()
			r.Handshake = &v
		}
		b, err := json.MarshalIndent(r, "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
		i++
	}
	if i > 0 {
		bw.WriteString("\n  ")
	}
	t := Total(conns)
	tot := statsJSON{Start: t.First.Sub(first).Seconds(), Duration: t.Last.Sub(t.First).Seconds(),
		Packets: sidesJSON{t.Packets[0], t.Packets[1]}, Bytes: sidesJSON{t.Bytes[0], t.Bytes[1]},
		Payload:         sidesJSON{t.Payload[0], t.Payload[1]},
		Retransmissions: t.Retransmissions, DupAcks: t.DupAcks, ZeroWindows: t.ZeroWindows, Connections: i}
	b, err := json.MarshalIndent(tot, "  ", "  ")
	if err != nil {
		return err
	}
	bw.WriteString("],\n  \"totals\": ")
	bw.Write(b)
	bw.WriteString("\n}\n")
	return bw.Flush()
}
