package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// Summary prints one block per connection after the segments: who talked to
// whom, how much, how well, and how it ended.
func Summary(w io.Writer, th Theme, sums []analysis.Summary, dropped int) {
	SummaryWith(w, th, sums, dropped, nil)
}

// SummaryWith is Summary with each connection's TCP state at the end of
// the capture, from st (nil: none), e.g. "states at the end: client
// TIME-WAIT, server CLOSED".
func SummaryWith(w io.Writer, th Theme, sums []analysis.Summary, dropped int, st *tcpstate.Tracker) {
	if len(sums) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, th.Bold(fmt.Sprintf("%d connection%s:", len(sums), plural(len(sums)))))
	for _, s := range sums {
		guess := ""
		if s.ClientGuessed {
			guess = " (no handshake seen: client guessed from the higher port)"
		}
		fmt.Fprintf(w, "  stream %d: client %s → server %s%s\n", s.Stream, th.Client(s.Client.String()), th.Server(s.Server.String()), guess)
		var parts []string
		parts = append(parts, "duration "+human(s.Last.Sub(s.First)))
		if s.HasHandshake {
			hs := "handshake " + human(s.Handshake)
			if s.SYNs > 1 {
				hs += fmt.Sprintf(" (SYN sent %d times)", s.SYNs)
			}
			parts = append(parts, hs)
		}
		parts = append(parts, fmt.Sprintf("client sent %s / %s, server %d / %d", count(s.ClientPackets, "segment"), count(s.ClientBytes, "byte"), s.ServerPackets, s.ServerBytes))
		fmt.Fprintf(w, "    %s\n", strings.Join(parts, ", "))
		trouble := fmt.Sprintf("%s, %s, %s", count(s.Retransmissions, "retransmission"), count(s.DupAcks, "duplicate ACK"), count(s.ZeroWindows, "zero window"))
		if s.Retransmissions+s.DupAcks+s.ZeroWindows > 0 {
			trouble = th.Note(trouble)
		}
		end := s.Ending.String()
		switch s.Ending {
		case analysis.ResetByClient, analysis.ResetByServer, analysis.HandshakeIncomplete, analysis.Refused:
			end = th.Warn(end)
		}
		fmt.Fprintf(w, "    %s; %s\n", trouble, end)
		if line := StatesLine(st, s.Stream); line != "" {
			fmt.Fprintf(w, "    %s\n", line)
		}
		if s.StateDropped {
			fmt.Fprintln(w, "    "+th.Warn("some unacknowledged-segment state was dropped to bound memory: ACK timings may be incomplete"))
		}
	}
	if dropped > 0 {
		fmt.Fprintln(w, th.Warn(fmt.Sprintf("note: state for %s was dropped to bound memory; some ACK timings may be missing", count(dropped, "unacknowledged segment"))))
	}
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
	return fmt.Sprintf("%d %s%s", n, word, plural(n))
}

// human prints a duration as every note and summary does (and stats):
// analysis.FormatDuration.
func human(d time.Duration) string { return analysis.FormatDuration(d) }
