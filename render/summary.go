package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// Summary prints one block per connection after the segments: who talked to
// whom, how much, how well, and how it ended.
func Summary(w io.Writer, th Theme, sums []analysis.Summary, dropped int) {
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
		if s.HasHandshakeRTT {
			parts = append(parts, "handshake "+human(s.HandshakeRTT))
		}
		parts = append(parts, fmt.Sprintf("client sent %d segments / %d bytes, server %d / %d", s.ClientPackets, s.ClientBytes, s.ServerPackets, s.ServerBytes))
		fmt.Fprintf(w, "    %s\n", strings.Join(parts, ", "))
		trouble := fmt.Sprintf("%d retransmissions, %d duplicate ACKs, %d zero windows", s.Retransmissions, s.DupAcks, s.ZeroWindows)
		if s.Retransmissions+s.DupAcks+s.ZeroWindows > 0 {
			trouble = th.Note(trouble)
		}
		end := s.Ending.String()
		switch s.Ending {
		case analysis.ResetByClient, analysis.ResetByServer, analysis.HandshakeIncomplete:
			end = th.Warn(end)
		}
		fmt.Fprintf(w, "    %s; %s\n", trouble, end)
		if s.StateDropped {
			fmt.Fprintln(w, "    "+th.Warn("some unacknowledged-segment state was dropped to bound memory: ACK timings may be incomplete"))
		}
	}
	if dropped > 0 {
		fmt.Fprintln(w, th.Warn(fmt.Sprintf("note: state for %d unacknowledged segments was dropped to bound memory; some ACK timings may be missing", dropped)))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// human prints a duration with a unit a student reads at a glance.
func human(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}
