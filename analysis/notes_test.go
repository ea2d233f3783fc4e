package analysis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// TestNoteWording: notes that said the wrong thing (issue 13). Each case
// gives the segments, the flags the analyzer must still raise (the notes
// change, Wireshark's flags do not), text the note must contain and text
// it must not.
func TestNoteWording(t *testing.T) {
	const ms = time.Millisecond
	type check struct {
		frame   int
		want    analysis.Flags
		has     []string
		hasNot  []string
		checked bool
	}
	cases := []struct {
		name   string
		steps  []step
		checks []check
	}{
		{"SYN resent twice, then the handshake", []step{
			{flags: syn, seq: 1000, wscale: -1},
			{at: 1000 * ms, flags: syn, seq: 1000, wscale: -1},
			{at: 3000 * ms, flags: syn, seq: 1000, wscale: -1},
			{fromServer: true, at: 3200 * ms, flags: syn | ack, seq: 5000, ack: 1001, wscale: -1},
			{at: 3400 * ms, flags: ack, seq: 1001, ack: 5001, wscale: -1},
		}, []check{
			{frame: 2, want: analysis.Retransmission, has: []string{"retransmission of #1: the SYN sent again after 1.0 s without a SYN-ACK"}, hasNot: []string{"bytes"}},
			{frame: 3, want: analysis.Retransmission, has: []string{"the SYN sent again after 3.0 s"}},
			{frame: 5, has: []string{"handshake 3/3: connection established 3.4 s after the first SYN (SYN sent 3 times; 400 ms after the last)"}},
		}},
		{"FIN resent", join(handshake(), []step{
			{at: 10 * ms, flags: ack | psh, seq: 1001, ack: 5001, len: 100, wscale: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1},
			{at: 20 * ms, flags: fin | ack, seq: 1101, ack: 5001, wscale: -1},
			{at: 320 * ms, flags: fin | ack, seq: 1101, ack: 5001, wscale: -1},
		}), []check{
			{frame: 7, want: analysis.Retransmission, has: []string{"retransmission of #6: the FIN sent again after 300 ms without an ACK"}, hasNot: []string{"bytes 100"}},
		}},
		{"data and FIN resent together", join(handshake(), []step{
			{at: 10 * ms, flags: fin | ack | psh, seq: 1001, ack: 5001, len: 5, wscale: -1},
			{at: 310 * ms, flags: fin | ack | psh, seq: 1001, ack: 5001, len: 5, wscale: -1},
		}), []check{
			{frame: 5, want: analysis.Retransmission, has: []string{"bytes 1–5 and the FIN sent again"}},
		}},
		{"one byte: plurals", join(handshake(), []step{
			{at: 10 * ms, flags: ack | psh, seq: 1001, ack: 5001, len: 1, wscale: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1002, wscale: -1},
		}), []check{
			{frame: 4, has: []string{"1 byte of data"}, hasNot: []string{"1 bytes"}},
			{frame: 5, has: []string{"acks 1 byte sent in #4"}, hasNot: []string{"1 bytes"}},
		}},
		{"resend within one round trip (Wireshark: out-of-order)", join(handshake(), []step{
			{at: 10 * ms, flags: ack | psh, seq: 1001, ack: 5001, len: 100, wscale: -1},
			{at: 10*ms + 100*time.Microsecond, flags: ack | psh, seq: 1101, ack: 5001, len: 100, wscale: -1},
			{at: 10*ms + 500*time.Microsecond, flags: ack | psh, seq: 1001, ack: 5001, len: 100, wscale: -1},
		}), []check{
			{frame: 6, want: analysis.OutOfOrder, has: []string{"out-of-order (Wireshark's word): bytes 1–100 of #4 sent again 500 µs later"}, hasNot: []string{"older data arriving"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.New(analysis.Options{})
			notes := map[int]string{}
			flags := map[int]analysis.Flags{}
			for i, st := range tc.steps {
				r := a.Add(st.segment(i + 1))
				notes[i+1], flags[i+1] = r.Note.String(), r.Flags
			}
			for _, c := range tc.checks {
				if flags[c.frame] != c.want {
					t.Errorf("#%d flags %v, want %v", c.frame, flags[c.frame].Names(), c.want.Names())
				}
				for _, h := range c.has {
					if !strings.Contains(notes[c.frame], h) {
						t.Errorf("#%d note %q\n   lacks %q", c.frame, notes[c.frame], h)
					}
				}
				for _, h := range c.hasNot {
					if strings.Contains(notes[c.frame], h) {
						t.Errorf("#%d note %q\n   has %q", c.frame, notes[c.frame], h)
					}
				}
			}
		})
	}
}

// TestSummaryLifecycle: the summary's handshake is measured from the first
// SYN; a SYN answered by RST has none and reads "refused".
func TestSummaryLifecycle(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name          string
		steps         []step
		handshake     time.Duration // 0: none
		syns          int
		ending        analysis.Ending
		endingText    string
		hasInitialRTT bool
	}{
		{"resent SYN", []step{
			{flags: syn, seq: 1000, wscale: -1},
			{at: 3000 * ms, flags: syn, seq: 1000, wscale: -1},
			{fromServer: true, at: 3200 * ms, flags: syn | ack, seq: 5000, ack: 1001, wscale: -1},
			{at: 3400 * ms, flags: ack, seq: 1001, ack: 5001, wscale: -1},
		}, 3400 * ms, 2, analysis.StillOpen, "still open", true},
		{"refused", []step{
			{flags: syn, seq: 1000, wscale: -1},
			{fromServer: true, at: 28 * time.Microsecond, flags: rst | ack, seq: 0, ack: 1001, wscale: -1},
		}, 0, 1, analysis.Refused, "refused: the SYN was answered by RST", true},
		{"half-closed", join(handshake(), []step{
			{at: 10 * ms, flags: fin | ack, seq: 1001, ack: 5001, wscale: -1},
		}), 2 * ms, 1, analysis.ClosedByClient, "half-closed by client (FIN)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.New(analysis.Options{})
			for i, st := range tc.steps {
				a.Add(st.segment(i + 1))
			}
			s := a.Summaries()[0]
			if s.HasHandshake != (tc.handshake != 0) || s.Handshake != tc.handshake {
				t.Errorf("handshake %v (%v), want %v", s.Handshake, s.HasHandshake, tc.handshake)
			}
			if s.SYNs != tc.syns || s.Ending != tc.ending || s.Ending.String() != tc.endingText {
				t.Errorf("SYNs %d, ending %q; want %d, %q", s.SYNs, s.Ending, tc.syns, tc.endingText)
			}
			if s.HasHandshakeRTT != tc.hasInitialRTT {
				t.Errorf("initial RTT (Wireshark's field) %v, want %v", s.HasHandshakeRTT, tc.hasInitialRTT)
			}
		})
	}
}
