package tcpstate

import (
	"net/netip"
	"strings"
	"testing"
)

// step is one segment in a scripted exchange: who sends it, its flags and
// numbers, and the changes expected from it (joined by "; ").
type step struct {
	from     End
	flags    uint8
	seq, ack uint32
	len      int
	want     string
}

const (
	c = Client
	s = Server
	// ISNs: the client's 1000, the server's 5000.
	SA = SYN | ACK
	FA = FIN | ACK
	RA = RST | ACK
)

// TestTransitions walks every arrow of RFC 9293's state diagram that a
// capture can show, each in a scripted exchange, and checks the changes
// each segment reports.
func TestTransitions(t *testing.T) {
	handshake := []step{
		{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
		{s, SA, 5000, 1001, 0, "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED"},
		{c, ACK, 1001, 5001, 0, "server: SYN-RECEIVED → ESTABLISHED"},
	}
	cases := []struct {
		name  string
		steps []step
		final string
	}{
		{"handshake and active close by the client", append(append([]step{}, handshake...),
			step{c, ACK | 0x08, 1001, 5001, 10, ""},
			step{s, ACK, 5001, 1011, 0, ""},
			step{c, FA, 1011, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT"},
			step{s, ACK, 5001, 1012, 0, "client: FIN-WAIT-1 → FIN-WAIT-2"},
			step{s, FA, 5001, 1012, 0, "server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-2 → TIME-WAIT"},
			step{c, ACK, 1012, 5002, 0, "server: LAST-ACK → CLOSED"},
		), "TIME-WAIT CLOSED"},
		{"FIN-ACK acknowledging the FIN: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT in one segment", append(append([]step{}, handshake...),
			step{c, FA, 1001, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT"},
			step{s, FA, 5001, 1002, 0, "server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-1 → FIN-WAIT-2; client: FIN-WAIT-2 → TIME-WAIT"},
			step{c, ACK, 1002, 5002, 0, "server: LAST-ACK → CLOSED"},
		), "TIME-WAIT CLOSED"},
		{"simultaneous close: FIN-WAIT-1 → CLOSING → TIME-WAIT on both", append(append([]step{}, handshake...),
			step{c, FA, 1001, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT"},
			// The server's FIN crossed the client's: it does not ack it.
			step{s, FA, 5001, 1001, 0, "server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-1 → CLOSING"},
			step{c, ACK, 1002, 5002, 0, "server: LAST-ACK → CLOSED"},
			step{s, ACK, 5002, 1002, 0, "client: CLOSING → TIME-WAIT"},
		), "TIME-WAIT CLOSED"},
		{"simultaneous open: SYN-SENT → SYN-RECEIVED → ESTABLISHED on both", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			// The SYNs cross: each arrives after the other was sent.
			{s, SYN, 5000, 0, 0, "server: CLOSED → SYN-SENT; server: SYN-SENT → SYN-RECEIVED; client: SYN-SENT → SYN-RECEIVED"},
			{c, SA, 1000, 5001, 0, "server: SYN-RECEIVED → ESTABLISHED"},
			{s, SA, 5000, 1001, 0, "client: SYN-RECEIVED → ESTABLISHED"},
			{c, ACK, 1001, 5001, 0, ""},
		}, "ESTABLISHED ESTABLISHED"},
		{"abortive close: RST from ESTABLISHED", append(append([]step{}, handshake...),
			step{c, RA, 1001, 5001, 0, "client: ESTABLISHED → CLOSED; server: ESTABLISHED → CLOSED"},
		), "CLOSED CLOSED"},
		{"connection refused: RST answering a SYN", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			{s, RA, 0, 1001, 0, "client: SYN-SENT → CLOSED"},
		}, "CLOSED CLOSED"},
		{"a RST that does not acknowledge the SYN is ignored in SYN-SENT", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			{s, RA, 0, 77, 0, ""},
		}, "SYN-SENT CLOSED"},
		{"RST in SYN-RECEIVED takes a passive open back to LISTEN", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			{s, SA, 5000, 1001, 0, "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED"},
			{c, RST, 1001, 0, 0, "client: ESTABLISHED → CLOSED; server: SYN-RECEIVED → LISTEN"},
		}, "CLOSED LISTEN"},
		{"SYN and SYN-ACK sent again change nothing", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			{c, SYN, 1000, 0, 0, ""},
			{s, SA, 5000, 1001, 0, "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED"},
			{s, SA, 5000, 1001, 0, ""},
			{c, ACK, 1001, 5001, 0, "server: SYN-RECEIVED → ESTABLISHED"},
		}, "ESTABLISHED ESTABLISHED"},
		{"server closes first: CLOSE-WAIT with data still flowing, then LAST-ACK", append(append([]step{}, handshake...),
			step{s, FA, 5001, 1001, 0, "server: ESTABLISHED → FIN-WAIT-1; client: ESTABLISHED → CLOSE-WAIT"},
			step{c, ACK | 0x08, 1001, 5002, 20, "server: FIN-WAIT-1 → FIN-WAIT-2"},
			step{s, ACK, 5002, 1021, 0, ""},
			step{c, FA, 1021, 5002, 0, "client: CLOSE-WAIT → LAST-ACK; server: FIN-WAIT-2 → TIME-WAIT"},
			step{c, FA, 1021, 5002, 0, ""}, // the FIN again
			step{s, ACK, 5002, 1022, 0, "client: LAST-ACK → CLOSED"},
		), "CLOSED TIME-WAIT"},
		{"a FIN after a gap waits for the gap: CLOSE-WAIT when the ACK covers it", append(append([]step{}, handshake...),
			step{c, ACK, 1001, 5001, 100, ""},
			// 1101..1201 lost before the capture saw it; the FIN at 1201.
			step{c, FA, 1201, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1"},
			step{s, ACK, 5001, 1101, 0, ""},
			step{c, ACK, 1101, 5001, 100, ""},
			step{s, ACK, 5001, 1202, 0, "server: ESTABLISHED → CLOSE-WAIT; client: FIN-WAIT-1 → FIN-WAIT-2"},
		), "FIN-WAIT-2 CLOSE-WAIT"},
		{"close in SYN-RECEIVED: FIN-WAIT-1 before the handshake's ACK", []step{
			{c, SYN, 1000, 0, 0, "client: CLOSED → SYN-SENT"},
			{s, SA, 5000, 1001, 0, "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED"},
			{s, FA, 5001, 1001, 0, "server: SYN-RECEIVED → FIN-WAIT-1; client: ESTABLISHED → CLOSE-WAIT"},
			{c, ACK, 1001, 5002, 0, "server: FIN-WAIT-1 → FIN-WAIT-2"},
		}, "CLOSE-WAIT FIN-WAIT-2"},
		{"capture joined mid-connection: states inferred", []step{
			{s, ACK, 5001, 1001, 50, ""},
			{c, FA, 1001, 5051, 0, "client: ESTABLISHED (inferred) → FIN-WAIT-1; server: ESTABLISHED (inferred) → CLOSE-WAIT"},
			{s, FA, 5051, 1002, 0, "server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-1 → FIN-WAIT-2; client: FIN-WAIT-2 → TIME-WAIT"},
		}, "TIME-WAIT LAST-ACK"},
		{"capture joined at the SYN-ACK", []step{
			{s, SA, 5000, 1001, 0, "server: LISTEN (inferred) → SYN-RECEIVED; client: SYN-SENT (inferred) → ESTABLISHED"},
			{c, ACK, 1001, 5001, 0, "server: SYN-RECEIVED → ESTABLISHED"},
		}, "ESTABLISHED ESTABLISHED"},
		{"RST first: both were established", []step{
			{c, RST, 1001, 0, 0, "client: ESTABLISHED (inferred) → CLOSED; server: ESTABLISHED (inferred) → CLOSED"},
		}, "CLOSED CLOSED"},
		{"RST received in TIME-WAIT closes it", append(append([]step{}, handshake...),
			step{c, FA, 1001, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT"},
			step{s, FA, 5001, 1002, 0, "server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-1 → FIN-WAIT-2; client: FIN-WAIT-2 → TIME-WAIT"},
			step{s, RST, 5002, 0, 0, "server: LAST-ACK → CLOSED; client: TIME-WAIT → CLOSED"},
		), "CLOSED CLOSED"},
		{"sequence numbers wrap around 2³²", []step{
			{c, SYN, 0xffffffff, 0, 0, "client: CLOSED → SYN-SENT"},
			{s, SA, 5000, 0, 0, "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED"},
			{c, ACK, 0, 5001, 0, "server: SYN-RECEIVED → ESTABLISHED"},
			{c, FA, 0, 5001, 0, "client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT"},
			{s, ACK, 5001, 1, 0, "client: FIN-WAIT-1 → FIN-WAIT-2"},
		}, "FIN-WAIT-2 CLOSE-WAIT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m Machine
			for i, st := range tc.steps {
				got := join(m.Step(st.from, Seg{Flags: st.flags, Seq: st.seq, Ack: st.ack, Len: st.len}, nil))
				if got != st.want {
					t.Errorf("segment %d (%s %#x): got %q, want %q", i+1, st.from, st.flags, got, st.want)
				}
			}
			a, _ := m.State(Client)
			b, _ := m.State(Server)
			if got := a.String() + " " + b.String(); got != tc.final {
				t.Errorf("final states %s, want %s", got, tc.final)
			}
		})
	}
}

func join(cs []Change) string {
	var p []string
	for _, c := range cs {
		p = append(p, c.String())
	}
	return strings.Join(p, "; ")
}

// TestDemoCalls: the demo's calls set states before the segments they cause,
// so the segments do not say them again.
func TestDemoCalls(t *testing.T) {
	cl, sv := netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:7000")
	tr := &Tracker{Listening: true}
	tr.Expect(Client, SynSent)
	if got := join(tr.Step(0, cl, sv, Seg{Flags: SYN, Seq: 1}, nil)); got != "" {
		t.Errorf("SYN after connect: %q, want nothing", got)
	}
	if got := join(tr.Step(0, sv, cl, Seg{Flags: SA, Seq: 9, Ack: 2}, nil)); got != "server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED" {
		t.Errorf("SYN-ACK: %q", got)
	}
	tr.Step(0, cl, sv, Seg{Flags: ACK, Seq: 2, Ack: 10}, nil)
	m, client := tr.Machine(0)
	if client != cl {
		t.Errorf("client %v, want %v", client, cl)
	}
	if ch, ok := m.Set(Client, FinWait1); !ok || ch.String() != "client: ESTABLISHED → FIN-WAIT-1" {
		t.Errorf("close: %v %v", ch, ok)
	}
	if got := join(tr.Step(0, cl, sv, Seg{Flags: FA, Seq: 2, Ack: 10}, nil)); got != "server: ESTABLISHED → CLOSE-WAIT" {
		t.Errorf("FIN after close: %q", got)
	}
	if _, ok := m.Set(Client, FinWait1); ok {
		t.Error("setting the same state again reports a change")
	}
}

// TestTrackerBounded: the tracker never holds more than Max connections,
// and the roles come from the handshake or, without one, the higher port.
func TestTrackerBounded(t *testing.T) {
	tr := &Tracker{Max: 3}
	for i := 0; i < 10; i++ {
		a := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i))
		b := netip.MustParseAddrPort("10.0.0.2:80")
		tr.Step(i, a, b, Seg{Flags: SYN, Seq: 1}, nil)
		if tr.Len() > 3 {
			t.Fatalf("%d connections kept, max 3", tr.Len())
		}
	}
	if m, _ := tr.Machine(0); m != nil {
		t.Error("the oldest connection is still kept")
	}
	if m, _ := tr.Machine(9); m == nil {
		t.Error("the newest connection is not kept")
	}
	hi, lo := netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:443")
	tr.Step(20, lo, hi, Seg{Flags: ACK, Seq: 1, Ack: 1, Len: 5}, nil)
	if _, cl := tr.Machine(20); cl != hi {
		t.Errorf("no handshake: client %v, want the higher port %v", cl, hi)
	}
	tr.Step(21, lo, hi, Seg{Flags: SA, Seq: 1, Ack: 1}, nil)
	if _, cl := tr.Machine(21); cl != hi {
		t.Errorf("SYN-ACK first: client %v, want its receiver %v", cl, hi)
	}
}

func TestNames(t *testing.T) {
	for st := Closed; st <= TimeWait; st++ {
		if p, ok := Parse(st.String()); !ok || p != st {
			t.Errorf("Parse(%q) = %v %v", st.String(), p, ok)
		}
	}
}
