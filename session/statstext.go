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
// in text, cell i ending at end[i] and taking width[i] columns. Rows are
// written into one reused rowText, so the table costs no allocation per
// connection (a capture can have hundreds of thousands of them).
type rowText struct {
	text  []byte
	end   [statsCells]int
	width [statsCells]int
}

// cell returns cell i.
func (r *rowText) cell(i int) []byte {
	start := 0
	if i > 0 {
		start = r.end[i-1]
	}
	return r.text[start:r.end[i]]
}

// mark ends cell i where the text ends now: a cell of ASCII only (digits,
// seconds), as wide as it is long.
func (r *rowText) mark(i int) {
	r.end[i] = len(r.text)
	r.width[i] = len(r.cell(i))
}

// markText is mark for a cell that may hold other characters ("→", "µs",
// an IPv6 zone): its width is counted in runes, as tabwriter counts it.
// (Counting every cell was a tenth of the table's cost.)
func (r *rowText) markText(i int) {
	r.end[i] = len(r.text)
	r.width[i] = utf8.RuneCount(r.cell(i))
}

// markAddr is mark for a cell that ends with ap: its text is ASCII unless
// it has a zone ("fe80::1%eth0"), which may be any text.
func (r *rowText) markAddr(i int, ap netip.AddrPort) {
	if ap.Addr().Zone() == "" {
		r.mark(i)
	} else {
		r.markText(i)
	}
}

// appendSeconds3 appends d in seconds with three decimals ("0.125"),
// exactly as strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64) does, but in
// whole numbers: the float's formatting was a third of the table's cost
// (the big.pcap of make bench has 20 000 rows, two cells each, formatted
// twice). d is whole nanoseconds, so unless it lies exactly halfway
// between two milliseconds it is at least 1 ns from halfway, far more than
// d.Seconds() can be off below a million seconds (a ulp of 1e6 is 1.2e-10):
// the float and the integer round the same way. Ties (which the float may
// round either way: 0.0625 is exact, 1.0005 is not), negative and larger
// durations take the float's path.
func appendSeconds3(b []byte, d time.Duration) []byte {
	ms, rem := d/time.Millisecond, d%time.Millisecond
	if d < 0 || d >= 1e6*time.Second || rem == 500*time.Microsecond {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
	}
	if rem > 500*time.Microsecond {
		ms++
	}
	b = decimal.AppendInt(b, int64(ms/1000))
	f := ms % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// conn writes c's row: stream, client (marked "?" when guessed: no
// handshake in the capture), server, start (seconds from first) and
// duration, packets, bytes and payload each way, the handshake's
// duration from the first SYN in the words of the replay summary ("17
// µs", "-" without one), retransmissions, duplicate ACKs, zero windows
// and how it ended.
func (r *rowText) conn(c *Conn, first time.Time) {
	r.text = decimal.AppendInt(r.text[:0], int64(c.Stream))
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
	r.text = append(r.text[:0], "total"...)
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
	r.text = r.text[:0]
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
// megabytes. Instead the rows are formatted twice, once to measure the
// columns and once to print, into one reused buffer. Every cell but a
// row's last ends a column (the totals row's last is empty: tabwriter
// padded that tab-terminated cell to nothing). first is the capture's
// first frame's time: starts are counted from it.
//
// (It was in cmd/tcpscope, building sixteen strings per row twice and
// padding a byte at a time: on make bench's big.pcap, whose 20 000
// connections end in 10 000 rows, 3 % of stats's instructions.)
func WriteStatsText(w io.Writer, conns iter.Seq[Conn], first time.Time) error {
	var r rowText
	var width [statsCells - 1]int
	measure := func() {
		for i := range width {
			width[i] = max(width[i], r.width[i]+2)
		}
	}
	r.header()
	measure()
	var t Conn
	n := 0
	for c := range conns {
		t.addTo(&c, n == 0)
		n++
		r.conn(&c, first)
		measure()
	}
	t.Stream = -1
	r.total(&t, n, first)
	measure()
	bw := bufio.NewWriterSize(w, 64<<10)
	// Each line is padded in line and written whole: one Write a row,
	// not one a cell and one a pad.
	var line []byte
	writeRow := func() {
		line = line[:0]
		for i := range statsCells - 1 {
			line = append(line, r.cell(i)...)
			for pad := width[i] - r.width[i]; pad > 0; pad -= len(spaces) {
				line = append(line, spaces[:min(pad, len(spaces))]...)
			}
		}
		line = append(append(line, r.cell(statsCells-1)...), '\n')
		bw.Write(line)
	}
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
