package picture

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/session"
)

// GraphOptions tunes the SVG graph.
type GraphOptions struct {
	// Dir is the direction whose data is drawn (0: Ends[0]'s data, 1:
	// Ends[1]'s); -1 picks the one that sent more payload.
	Dir   int
	Title string // drawn at the top; empty for a default naming the endpoints
}

// Picture geometry, in SVG user units. The sizes are for a projector: a
// 1600×1000 picture whose text stays legible when shrunk to a slide.
const (
	gW, gH        = 1600, 1000
	padL, padR    = 150, 50
	seqTop, seqH  = 110, 560 // time-sequence panel
	rttTop, rttH  = 760, 160 // RTT panel
	fontBody      = 24
	fontTitle     = 30
	colData       = "#1f5fbf"
	colRetrans    = "#d62728"
	colOutOfOrder = "#ff7f0e"
	colAck        = "#2ca02c"
	colWin        = "#9a8c00"
	colSACK       = "#9467bd"
)

// DataDir returns the direction that sent more payload bytes (0 on a tie),
// the one a time-sequence graph is usually wanted for.
func DataDir(s *session.Session) int {
	var n [2]int
	for _, g := range s.Segments {
		n[g.Dir] += g.Len
	}
	if n[1] > n[0] {
		return 1
	}
	return 0
}

// Graph writes Stevens' time-sequence graph of one direction of s as SVG:
// each data segment is a vertical bar from its first to its last sequence
// number at the time it was sent (retransmissions in red, out-of-order
// segments in orange), the other side's acknowledgement number as a green
// step line, the edge of its advertised receive window (ack + window) as a
// yellow step line, and SACK blocks as purple bands. A second panel plots
// the round-trip time of each ACK that acknowledged new data.
//
// The picture answers the questions a lecture asks of a transfer: is the
// sender limited by the window, where were segments lost, and how fast did
// the sender recover.
func Graph(w io.Writer, s *session.Session, o GraphOptions) error {
	dir := o.Dir
	if dir < 0 {
		dir = DataDir(s)
	}
	t0 := s.Segments[0].Time
	rg := dataRange(s, dir)
	tFrom, tEnd := rg.from, rg.to
	plotW := float64(gW - padL - padR)
	// Times on the axis stay "since the first segment", whatever part of
	// the connection the axis shows.
	tLo, tHi := tFrom.Sub(t0).Seconds(), tEnd.Sub(t0).Seconds()
	x := func(t time.Time) float64 { return padL + (t.Sub(t0).Seconds()-tLo)/(tHi-tLo)*plotW }
	yLo, yHi := rg.yLo, rg.yHi
	y := func(v float64) float64 { return seqTop + seqH - (v-yLo)/(yHi-yLo)*seqH }
	// The window edge is drawn inside the panel: where it runs above the
	// scale (a 64 KiB window over a 44-byte exchange) it is held at the
	// top edge and labelled, rather than flattening the data or vanishing.
	yWin := func(v float64) float64 { return math.Max(y(v), seqTop+2) }

	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="%d">
<rect x="0" y="0" width="%d" height="%d" fill="white"/>
<defs><clipPath id="seqclip"><rect x="%d" y="%d" width="%.0f" height="%d"/></clipPath></defs>
`, gW, gH, gW, gH, fontBody, gW, gH, padL, seqTop, plotW, seqH)
	title := o.Title
	if title == "" {
		title = fmt.Sprintf("stream %d, data %s → %s", s.Stream, s.Ends[dir], s.Ends[1-dir])
		// Say what the scaled axes leave out.
		var left []string
		if before := tFrom.Sub(t0); before >= time.Millisecond && before > (tEnd.Sub(tFrom)) {
			left = append(left, fmt.Sprintf("data from %s s", trimFloat(math.Round(before.Seconds()*1e3)/1e3)))
		}
		if last := s.Segments[len(s.Segments)-1].Time; last.Sub(tEnd) >= time.Millisecond {
			left = append(left, fmt.Sprintf("then idle %s s", trimFloat(math.Round(last.Sub(tEnd).Seconds()*1e3)/1e3)))
		}
		if len(left) > 0 {
			title += " (" + strings.Join(left, ", ") + ")"
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="44" font-size="%d" font-weight="bold">%s</text>
`, padL, fontTitle, esc(title))

	// A long stream is thinned to what the picture can show (session.Keep
	// Spread): say so, and how.
	if s.Stride > 1 || s.FlaggedStride > 1 {
		flagged := "all flagged segments drawn"
		if s.FlaggedStride > 1 {
			flagged = fmt.Sprintf("1 flagged segment in %d", s.FlaggedStride)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="end" font-size="%d" fill="#555">thinned to fit: %d of %d segments drawn (1 in %d; %s)</text>
`, padL+plotW, seqTop-6, fontBody-4, len(s.Segments), s.Total, s.Stride, flagged)
	}

	// Axes and grid of the sequence panel.
	axes(&b, seqTop, seqH, plotW, tLo, tHi, yLo, yHi, "relative sequence number (bytes)", formatBytes)

	// SACK bands: from the ACK that reported them to the next ACK.
	b.WriteString(`<g clip-path="url(#seqclip)">` + "\n")
	var acks []session.Segment
	for _, g := range s.Segments {
		if g.Dir != dir && g.Flags&analysis.ACK != 0 && !g.Time.After(tEnd) {
			if g.Time.Before(tFrom) {
				// Only the last ACK before the range: where the lines start.
				if len(acks) > 0 {
					acks = acks[:0]
				}
				g.Time = tFrom
			}
			acks = append(acks, g)
		}
	}
	for i, a := range acks {
		if len(a.SACK) == 0 {
			continue
		}
		end := tEnd
		if i+1 < len(acks) {
			end = acks[i+1].Time
		}
		x0, x1 := x(a.Time), x(end)
		if x1-x0 < 4 {
			x1 = x0 + 4
		}
		for _, k := range a.SACK {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.35"/>
`, x0, y(float64(k.Right)), x1-x0, math.Max(y(float64(k.Left))-y(float64(k.Right)), 2), colSACK)
		}
	}
	// ACK and window step lines.
	if len(acks) > 0 {
		var ack, win strings.Builder
		for i, a := range acks {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			ax := x(a.Time)
			if i > 0 {
				prev := acks[i-1]
				fmt.Fprintf(&ack, "L%.1f %.1f ", ax, y(float64(prev.Ack)))
				fmt.Fprintf(&win, "L%.1f %.1f ", ax, yWin(float64(prev.Ack)+float64(prev.Win)))
			}
			fmt.Fprintf(&ack, "%s%.1f %.1f ", cmd, ax, y(float64(a.Ack)))
			fmt.Fprintf(&win, "%s%.1f %.1f ", cmd, ax, yWin(float64(a.Ack)+float64(a.Win)))
		}
		last := acks[len(acks)-1]
		fmt.Fprintf(&ack, "L%.1f %.1f", x(tEnd), y(float64(last.Ack)))
		fmt.Fprintf(&win, "L%.1f %.1f", x(tEnd), yWin(float64(last.Ack)+float64(last.Win)))
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="3"/>
<path d="%s" fill="none" stroke="%s" stroke-width="3" stroke-dasharray="10 6"/>
`, win.String(), colWin, ack.String(), colAck)
		if rg.winAbove > 0 {
			fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="end" fill="%s">window edge above the scale (up to %s) ↑</text>
`, padL+plotW-10, seqTop+28, colWin, formatBytes(rg.winAbove))
		}
	}
	// Data segments as I-beams.
	for _, g := range s.Segments {
		if g.Dir != dir || g.Len == 0 || g.Time.After(tEnd) || g.Time.Before(tFrom) {
			continue
		}
		col := colData
		switch {
		case g.Verdict&(analysis.Retransmission|analysis.FastRetransmission|analysis.SpuriousRetransmission) != 0:
			col = colRetrans
		case g.Verdict.Has(analysis.OutOfOrder):
			col = colOutOfOrder
		}
		sx, y0, y1 := x(g.Time), y(float64(g.Seq)), y(float64(g.Seq)+float64(g.Len))
		fmt.Fprintf(&b, `<path d="M%.1f %.1f V%.1f M%.1f %.1f h12 M%.1f %.1f h12" stroke="%s" stroke-width="4"><title>frame %d: seq %d len %d</title></path>
`, sx, y0, y1, sx-6, y0, sx-6, y1, col, g.Frame, g.Seq, g.Len)
	}
	b.WriteString("</g>\n")
	legend(&b)

	// RTT panel.
	var rtts []session.Segment
	var rMax float64
	for _, g := range s.Segments {
		if g.Dir != dir && g.HasAckRTT && !g.Time.After(tEnd) && !g.Time.Before(tFrom) {
			rtts = append(rtts, g)
			rMax = math.Max(rMax, ms(g.AckRTT))
		}
	}
	if rMax == 0 {
		rMax = 1
	}
	rMax *= 1.15
	axes(&b, rttTop, rttH, plotW, tLo, tHi, 0, rMax, "RTT (ms)", func(v float64) string { return trimFloat(v) })
	ry := func(v float64) float64 { return rttTop + rttH - v/rMax*rttH }
	if len(rtts) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle" fill="#666">no ACK in this direction acknowledged new data: no RTT samples</text>
`, padL+plotW/2, rttTop+rttH/2)
	} else {
		var p strings.Builder
		for i, g := range rtts {
			c := "L"
			if i == 0 {
				c = "M"
			}
			fmt.Fprintf(&p, "%s%.1f %.1f ", c, x(g.Time), ry(ms(g.AckRTT)))
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>
`, strings.TrimSpace(p.String()), colData)
		for _, g := range rtts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="6" fill="%s"><title>frame %d acks frame %d: %.3f ms</title></circle>
`, x(g.Time), ry(ms(g.AckRTT)), colData, g.Frame, g.AcksFrame, ms(g.AckRTT))
		}
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">time since the first segment (s)</text>
</svg>
`, padL+plotW/2, gH-18)
	_, err := io.WriteString(w, b.String())
	return err
}

// span is the part of a connection the graph shows: the times and the
// sequence numbers of its data.
type span struct {
	from, to time.Time
	yLo, yHi float64
	// winAbove > 0: the window edge runs above yHi, up to this value; the
	// graph holds it at the top edge instead of squeezing the data.
	winAbove float64
}

// dataRange scales the axes to the data of direction dir: from the first
// data segment to the ACK of the last byte (or the last data segment or
// SACK report, if later), and from the lowest to the highest sequence
// number sent or acknowledged. A connection often waits before its data
// (a retransmitted SYN, a server busy with another client) and after it (a
// keep-alive minute before the FIN, a FIN retransmitted for seconds); drawn
// whole, a 1 ms exchange would be a dot at one edge. The window edge is
// taken into the vertical range when it stays within twice the data's
// range; above that it is held at the top (winAbove says so). A direction
// without data gets the whole connection.
func dataRange(s *session.Session, dir int) span {
	var r span
	first, last := s.Segments[0].Time, s.Segments[len(s.Segments)-1].Time
	var lo, hi float64
	seen := false
	for _, g := range s.Segments {
		if g.Dir != dir || g.Len == 0 {
			continue
		}
		a, b := float64(g.Seq), float64(g.Seq)+float64(g.Len)
		if !seen {
			r.from, lo, hi, seen = g.Time, a, b, true
		}
		lo, hi = math.Min(lo, a), math.Max(hi, b)
		r.to = g.Time
	}
	if !seen {
		r.from, r.to, lo, hi = first, last, 0, 1
		for _, g := range s.Segments {
			if g.Dir != dir && g.Flags&analysis.ACK != 0 {
				hi = math.Max(hi, float64(g.Ack))
			}
		}
	} else {
		// The ACKs that report on this data: up to the one that
		// acknowledges its last byte (a FIN's ACK is one further).
		for _, g := range s.Segments {
			if g.Dir == dir || g.Flags&analysis.ACK == 0 || g.Time.Before(r.from) {
				continue
			}
			ack := float64(g.Ack)
			if ack <= hi || len(g.SACK) > 0 {
				if g.Time.After(r.to) {
					r.to = g.Time
				}
			}
			if ack >= hi {
				break
			}
		}
	}
	// Room on both sides, so the first and last bars are not on the frame.
	pad := r.to.Sub(r.from) / 20
	if pad < 20*time.Microsecond {
		pad = 20 * time.Microsecond
	}
	r.from, r.to = r.from.Add(-pad), r.to.Add(pad)
	// The window edge, where the receiver allowed the sender to go.
	var winMax float64
	for _, g := range s.Segments {
		if g.Dir != dir && g.Flags&analysis.ACK != 0 && !g.Time.Before(r.from) && !g.Time.After(r.to) {
			winMax = math.Max(winMax, float64(g.Ack)+float64(g.Win))
		}
	}
	if winMax > hi && winMax-lo <= 2*(hi-lo) {
		hi = winMax
	} else if winMax > hi {
		r.winAbove = winMax
	}
	ypad := (hi - lo) * 0.06
	if ypad < 1 {
		ypad = 1
	}
	r.yLo, r.yHi = math.Max(0, lo-ypad), hi+ypad
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// axes draws a panel's frame, horizontal grid lines with labels for values
// vLo..vHi and time ticks for tLo..tHi (seconds since the first segment)
// along the bottom.
func axes(b *strings.Builder, top, h int, plotW, tLo, tHi, vLo, vHi float64, label string, format func(float64) string) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%d" fill="none" stroke="#333" stroke-width="2"/>
`, padL, top, plotW, h)
	for _, v := range ticks(vLo, vHi, 5) {
		yy := float64(top+h) - (v-vLo)/(vHi-vLo)*float64(h)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>
`, padL, yy, padL+plotW, yy, padL-10, yy, format(v))
	}
	for _, t := range ticks(tLo, tHi, 8) {
		xx := padL + (t-tLo)/(tHi-tLo)*plotW
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="2"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>
`, xx, top+h, xx, top+h+8, xx, top+h+32, trimFloat(t))
	}
	fmt.Fprintf(b, `<text transform="translate(30 %d) rotate(-90)" text-anchor="middle" font-size="%d">%s</text>
`, top+h/2, fontBody-2, esc(label))
}

func legend(b *strings.Builder) {
	items := []struct{ col, name string }{
		{colData, "data"}, {colRetrans, "retransmitted"}, {colOutOfOrder, "out of order"},
		{colAck, "ACK"}, {colWin, "window edge"}, {colSACK, "SACK"},
	}
	xx := float64(padL)
	for _, it := range items {
		fmt.Fprintf(b, `<rect x="%.0f" y="70" width="26" height="18" fill="%s"/><text x="%.0f" y="86">%s</text>
`, xx, it.col, xx+34, it.name)
		xx += 34 + float64(len(it.name))*14 + 36
	}
}

// ticks returns round values from lo up to hi, about n of them.
func ticks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.6f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}

func formatBytes(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(v/1e6) + " M"
	case v >= 1e3:
		return trimFloat(v/1e3) + " k"
	}
	return trimFloat(v)
}

// esc escapes text for SVG.
func esc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
