package render

import (
	"io"
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/internal/decimal"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// Summary prints one block per connection after the segments: who talked to
// whom, how much, how well, and how it ended.
func Summary(w io.Writer, th Theme, sums []analysis.Summary, dropped int) {
	SummaryWith(w, th, sums, dropped, nil)
}

// summaryFlushAt is how much of the summary is built before it is written:
// a capture of short connections has tens of thousands of blocks.
const summaryFlushAt = 32 << 10

// SummaryWith is Summary with each connection's TCP state at the end of
// the capture, from st (nil: none), e.g. "states at the end: client
// TIME-WAIT, server CLOSED".
func SummaryWith(w io.Writer, th Theme, sums []analysis.Summary, dropped int, st *tcpstate.Tracker) {
	SummarySeq(w, th, len(sums), slices.Values(sums), dropped, st)
}

// SummarySeq is SummaryWith for n summaries yielded one at a time
// (analysis.Analyzer.EachSummary), so that no list of them is made.
//
// The blocks are appended to a buffer, not formatted with fmt: the summary
// is printed after the last segment, when only this goroutine has work, so
// its time adds whole to the run's; for make bench's 20 000 connections
// fmt took 37 ms, 7 % of a replay.
func SummarySeq(w io.Writer, th Theme, n int, sums iter.Seq[analysis.Summary], dropped int, st *tcpstate.Tracker) {
	if n == 0 {
		return
	}
	b := make([]byte, 0, summaryFlushAt+4<<10)
	b = append(b, '\n')
	at := len(b)
	b = append(appendCount(b, n, "connection"), ':')
	b = append(paintSince(b, at, th, th.Bold), '\n')
	for s := range sums {
		b = appendSummary(b, th, &s, st)
		if len(b) >= summaryFlushAt {
			w.Write(b)
			b = b[:0]
		}
	}
	if dropped > 0 {
		at := len(b)
		b = append(b, "note: state for "...)
		b = appendCount(b, dropped, "unacknowledged segment")
		b = append(b, " was dropped to bound memory; some ACK timings may be missing"...)
		b = append(paintSince(b, at, th, th.Warn), '\n')
	}
	w.Write(b)
}

// appendSummary appends one connection's block.
func appendSummary(b []byte, th Theme, s *analysis.Summary, st *tcpstate.Tracker) []byte {
	b = append(b, "  stream "...)
	b = decimal.AppendInt(b, int64(s.Stream))
	b = append(b, ": client "...)
	at := len(b)
	b = paintSince(appendEndpoint(b, s.Client), at, th, th.Client)
	b = append(b, " → server "...)
	at = len(b)
	b = paintSince(appendEndpoint(b, s.Server), at, th, th.Server)
	if s.ClientGuessed {
		b = append(b, " (no handshake seen: client guessed from the higher port)"...)
	}
	b = append(b, "\n    duration "...)
	b = analysis.AppendDuration(b, s.Last.Sub(s.First))
	if s.HasHandshake {
		b = analysis.AppendDuration(append(b, ", handshake "...), s.Handshake)
		if s.SYNs > 1 {
			b = decimal.AppendInt(append(b, " (SYN sent "...), int64(s.SYNs))
			b = append(b, " times)"...)
		}
	}
	b = appendCount(append(b, ", client sent "...), s.ClientPackets, "segment")
	b = appendCount(append(b, " / "...), s.ClientBytes, "byte")
	b = decimal.AppendInt(append(b, ", server "...), int64(s.ServerPackets))
	b = decimal.AppendInt(append(b, " / "...), int64(s.ServerBytes))
	b = append(b, "\n    "...)
	at = len(b)
	b = appendCount(b, s.Retransmissions, "retransmission")
	b = appendCount(append(b, ", "...), s.DupAcks, "duplicate ACK")
	b = appendCount(append(b, ", "...), s.ZeroWindows, "zero window")
	if s.Retransmissions+s.DupAcks+s.ZeroWindows > 0 {
		b = paintSince(b, at, th, th.Note)
	}
	b = append(b, "; "...)
	at = len(b)
	b = append(b, s.Ending.String()...)
	switch s.Ending {
	case analysis.ResetByClient, analysis.ResetByServer, analysis.HandshakeIncomplete, analysis.Refused:
		b = paintSince(b, at, th, th.Warn)
	}
	b = append(b, '\n')
	if line := StatesLine(st, s.Stream); line != "" {
		b = append(append(append(b, "    "...), line...), '\n')
	}
	if s.StateDropped {
		b = append(b, "    "...)
		at = len(b)
		b = append(b, "some unacknowledged-segment state was dropped to bound memory: ACK timings may be incomplete"...)
		b = append(paintSince(b, at, th, th.Warn), '\n')
	}
	return b
}

// appendEndpoint appends ap as ap.String() writes it ("invalid AddrPort"
// for the zero value, which AppendTo leaves out).
func appendEndpoint(b []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(b, "invalid AddrPort"...)
	}
	return ap.AppendTo(b)
}

// paintSince paints b[at:] with paint, a method of th, when colour is on.
func paintSince(b []byte, at int, th Theme, paint func(string) string) []byte {
	if !th.Enabled {
		return b
	}
	return append(b[:at], paint(string(b[at:]))...)
}

// StatesLine says in which TCP state each end of stream was left:
// "states at the end: client TIME-WAIT, server CLOSED" (with "capture
// started mid-connection: states inferred" when they rest on a guess).
// It is "" when st does not follow the stream.
func StatesLine(st *tcpstate.Tracker, stream int) string {
	if st == nil {
		return ""
	}
	m, _ := st.Machine(stream)
	if m == nil {
		return ""
	}
	c, _ := m.State(tcpstate.Client)
	s, _ := m.State(tcpstate.Server)
	if c == tcpstate.Unknown && s == tcpstate.Unknown {
		return ""
	}
	line := "states at the end: client " + c.String() + ", server " + s.String()
	if s == tcpstate.Unknown {
		line = "states at the end: client " + c.String() + ", server never answered"
	}
	if m.Joined() {
		line += " (inferred: the capture starts mid-connection)"
	}
	return line
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// count writes "1 segment", "2 segments".
func count(n int, word string) string {
	return string(appendCount(nil, n, word))
}

// appendCount appends count(n, word).
func appendCount(b []byte, n int, word string) []byte {
	b = append(decimal.AppendInt(b, int64(n)), ' ')
	return append(append(b, word...), plural(n)...)
}

// human prints a duration as every note and summary does (and stats):
// analysis.FormatDuration.
func human(d time.Duration) string { return analysis.FormatDuration(d) }
