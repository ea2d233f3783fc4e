// Package picture draws one TCP connection (a session.Session) the way
// lecture slides and textbooks do: a ladder (sequence) diagram for the
// terminal, and Stevens' time-sequence graph with an RTT panel as SVG.
//
// Drawing functions write to an io.Writer they are given and keep no state
// between calls.
package picture

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// LadderOptions tunes the ladder diagram.
type LadderOptions struct {
	Theme render.Theme
	// Width is the space between the two endpoint columns; 0 means 56.
	Width int
	// Roles names the two endpoints ("client", "server"); empty strings
	// leave the addresses alone.
	Roles [2]string
}

// margin is the left column holding "#frame  time"; stateW the column
// beside each endpoint's line holding its TCP state where it changes.
const (
	margin = 20
	stateW = 13
)

// Ladder draws the sequence diagram: one column per endpoint, time running
// down, and for every segment three rows: its flags and numbers, then an
// arrow that leaves the sender's column and drops a row half-way, so it
// slants down toward the receiver as on a lecture slide (the segment takes
// time to cross). Beside each endpoint's line, its TCP state (RFC 9293's
// names, see tcpstate) where it changes: the sender's on the row the
// segment leaves, the receiver's on the row it arrives. What the analyzer
// says about the segment (its note) is printed to the right.
func Ladder(w io.Writer, s *session.Session, o LadderOptions) error {
	width := o.Width
	if width == 0 {
		width = 56
	}
	th := o.Theme
	changes, first, joined := ladderStates(s)
	var sb strings.Builder
	// Header: endpoint names centred over their columns.
	names := [2]string{s.Ends[0].String(), s.Ends[1].String()}
	if o.Roles[0] != "" {
		names[0] = o.Roles[0] + " " + names[0]
		names[1] = o.Roles[1] + " " + names[1]
	}
	lm := margin + stateW
	left := lm - utf8.RuneCountInString(names[0])/2
	if left < 0 {
		left = 0
	}
	line := strings.Repeat(" ", left) + names[0]
	right := lm + width + 1 - utf8.RuneCountInString(names[1])/2
	if pad := right - utf8.RuneCountInString(line); pad > 1 {
		line += strings.Repeat(" ", pad)
	} else {
		line += "  "
	}
	line += names[1]
	sb.WriteString(th.Bold(line) + "\n")
	if joined {
		sb.WriteString(strings.Repeat(" ", lm) + "(states inferred: the capture starts mid-connection)\n")
	}
	bars := strings.Repeat(" ", lm) + "|" + strings.Repeat(" ", width) + "|"
	sb.WriteString(stateRow(strings.Repeat(" ", margin), first[0], first[1], width, th, "") + "\n")
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return err
	}
	for i := range s.Segments {
		if s.Elided > 0 && i == s.ElidedAfter && i > 0 {
			// A long stream: session.Keep kept its start and its end.
			gap := fmt.Sprintf("%s  ... %d segments not drawn (between frames %d and %d): the ladder shows the first %d and the last %d ...",
				strings.Repeat(" ", lm), s.Elided, s.Segments[i-1].Frame, s.Segments[i].Frame, i, len(s.Segments)-i)
			if _, err := io.WriteString(w, bars+"\n"+th.Dim(gap)+"\n"+bars+"\n"); err != nil {
				return err
			}
		}
		if err := ladderSegment(w, s, &s.Segments[i], changes[i], width, th); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, bars+"\n")
	return err
}

// ladderStates runs the state machine over the session: the states each
// segment moves each end to ([segment][end] → up to three names), each
// end's state before the first segment, and whether those were guessed
// (the capture starts mid-connection).
func ladderStates(s *session.Session) ([][2][]string, [2]string, bool) {
	var m tcpstate.Machine
	out := make([][2][]string, len(s.Segments))
	var first [2]string
	var seen [2]bool
	var buf []tcpstate.Change
	for i := range s.Segments {
		g := &s.Segments[i]
		buf = m.Step(tcpstate.End(g.Dir), tcpstate.Seg{Flags: g.Flags, Seq: g.Seq, Ack: g.Ack, Len: g.Len}, buf[:0])
		for _, c := range buf {
			if !seen[c.End] {
				seen[c.End], first[c.End] = true, c.From.String()
			}
			out[i][c.End] = append(out[i][c.End], c.To.String())
		}
	}
	for e := range first {
		if !seen[e] {
			if st, _ := m.State(tcpstate.End(e)); st != tcpstate.Unknown {
				first[e] = st.String()
			}
		}
	}
	return out, first, m.Joined()
}

// stateRow is a row with the endpoint lines, l and r beside them, and a
// note after.
func stateRow(when, l, r string, width int, th render.Theme, note string) string {
	row := when + fmt.Sprintf("%*s ", stateW-1, l) + "|" + strings.Repeat(" ", width) + "|"
	if r != "" || note != "" {
		row += " " + fmt.Sprintf("%-*s", stateW-1, r)
	}
	return strings.TrimRight(row, " ") + note
}

// Label is the text written above a segment's arrow: flags, then the
// relative numbers that matter for it (ack only when the ACK flag is set,
// len only when it carries data), then the window.
func Label(g *session.Segment) string {
	var parts []string
	parts = append(parts, flagText(g.Flags))
	parts = append(parts, fmt.Sprintf("seq=%d", g.Seq))
	if g.Flags&analysis.ACK != 0 {
		parts = append(parts, fmt.Sprintf("ack=%d", g.Ack))
	}
	if g.Len > 0 {
		parts = append(parts, fmt.Sprintf("len=%d", g.Len))
	}
	parts = append(parts, fmt.Sprintf("win=%d", g.Win))
	if len(g.SACK) > 0 {
		var b []string
		for _, k := range g.SACK {
			b = append(b, fmt.Sprintf("%d-%d", k.Left, k.Right))
		}
		parts = append(parts, "sack="+strings.Join(b, ","))
	}
	return strings.Join(parts, " ")
}

// flagText lists the header flags in the order students say them.
func flagText(f uint8) string {
	var n []string
	for _, x := range []struct {
		bit  uint8
		name string
	}{{analysis.SYN, "SYN"}, {analysis.FIN, "FIN"}, {analysis.RST, "RST"}, {analysis.PSH, "PSH"},
		{analysis.ACK, "ACK"}, {analysis.URG, "URG"}, {analysis.ECE, "ECE"}, {analysis.CWR, "CWR"}} {
		if f&x.bit != 0 {
			n = append(n, x.name)
		}
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ",")
}

func paint(th render.Theme, sev analysis.Severity, s string) string {
	switch sev {
	case analysis.SeverityChat:
		return th.Chat(s)
	case analysis.SeverityNote:
		return th.Note(s)
	case analysis.SeverityWarn, analysis.SeverityError:
		return th.Warn(s)
	}
	return s
}

func ladderSegment(w io.Writer, s *session.Session, g *session.Segment, ch [2][]string, width int, th render.Theme) error {
	label := Label(g)
	if n := utf8.RuneCountInString(label); n > width-2 {
		label = string([]rune(label)[:width-3]) + "…"
	}
	pad := width - 2 - utf8.RuneCountInString(label)
	var row1 string
	if g.Dir == 0 {
		row1 = " " + label + strings.Repeat(" ", pad) + " "
	} else {
		row1 = " " + strings.Repeat(" ", pad) + label + " "
	}
	mid := width / 2
	var row2, row3 string
	if g.Dir == 0 {
		row2 = strings.Repeat("-", mid) + "." + strings.Repeat(" ", width-mid-1)
		row3 = strings.Repeat(" ", mid) + "`" + strings.Repeat("-", width-mid-2) + ">"
	} else {
		row2 = strings.Repeat(" ", mid-1) + "." + strings.Repeat("-", width-mid)
		row3 = "<" + strings.Repeat("-", mid-2) + "'" + strings.Repeat(" ", width-mid)
	}
	// The states by row: the sender's from the first row down, the
	// receiver's up to the last row, where the arrow arrives.
	var st [3][2]string
	for e := 0; e < 2; e++ {
		if e == g.Dir {
			for k, n := range ch[e] {
				st[min(k, 2)][e] = n
			}
		} else {
			for k, n := range ch[e] {
				st[max(0, 3-len(ch[e])+k)][e] = n
			}
		}
	}
	when := fmt.Sprintf("#%-5d %10.6f ", g.Frame, g.Time.Sub(s.Start).Seconds())
	when = fmt.Sprintf("%-*s", margin, when)
	blank := strings.Repeat(" ", margin)
	note := ""
	if g.Note != "" {
		note = "  " + paint(th, g.Severity, g.Note)
	}
	var out strings.Builder
	for k, row := range []string{th.Flags(row1), paint(th, g.Severity, row2), paint(th, g.Severity, row3)} {
		lead, n := blank, ""
		if k == 0 {
			lead, n = when, note
		}
		l, r := st[k][0], st[k][1]
		line := lead + th.Bold(fmt.Sprintf("%*s", stateW-1, l)) + " |" + row + "|"
		switch {
		case n != "":
			// Notes start in one column, past the state column.
			line += " " + th.Bold(r) + strings.Repeat(" ", max(0, stateW-1-len(r))) + n
		case r != "":
			line += " " + th.Bold(r)
		}
		out.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}
