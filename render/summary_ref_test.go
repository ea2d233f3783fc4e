package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// summaryWithFmt is SummaryWith as it was written with fmt, kept as the
// oracle for the appending one: with each connection's TCP state at the end of
// the capture, from st (nil: none), e.g. "states at the end: client
// TIME-WAIT, server CLOSED".
func summaryWithFmt(w io.Writer, th Theme, sums []analysis.Summary, dropped int, st *tcpstate.Tracker) {
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
		parts = append(parts, fmt.Sprintf("client sent %s / %s, server %d / %d", countFmt(s.ClientPackets, "segment"), countFmt(s.ClientBytes, "byte"), s.ServerPackets, s.ServerBytes))
		fmt.Fprintf(w, "    %s\n", strings.Join(parts, ", "))
		trouble := fmt.Sprintf("%s, %s, %s", countFmt(s.Retransmissions, "retransmission"), countFmt(s.DupAcks, "duplicate ACK"), countFmt(s.ZeroWindows, "zero window"))
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
		fmt.Fprintln(w, th.Warn(fmt.Sprintf("note: state for %s was dropped to bound memory; some ACK timings may be missing", countFmt(dropped, "unacknowledged segment"))))
	}
}

func countFmt(n int, word string) string {
	return fmt.Sprintf("%d %s%s", n, word, plural(n))
}
