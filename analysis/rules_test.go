package analysis_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

var (
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:80")
	t0     = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// step is one hand-built segment and what the analyzer must say about it.
type step struct {
	fromServer bool
	at         time.Duration // since t0
	flags      uint8
	seq, ack   uint32
	len        int
	win        uint16
	wscale     int // -1 = no option; 0 is a real shift of 0
	sack       []analysis.SACKBlock

	want      analysis.Flags
	note      string // substring the note must contain; "" = not checked
	stream    int
	acksFrame int // -1 = not checked
	dupAckNum int
}

func (s step) segment(frame int) analysis.Segment {
	src, dst := client, server
	if s.fromServer {
		src, dst = server, client
	}
	mss := -1
	if s.flags&analysis.SYN != 0 {
		mss = 1460
	}
	win := s.win
	if win == 0 && s.want&(analysis.ZeroWindow|analysis.ZeroWindowProbeAck) == 0 {
		win = 1000
	}
	return analysis.Segment{Frame: frame, Time: t0.Add(s.at), Src: src, Dst: dst, Seq: s.seq, Ack: s.ack,
		Flags: s.flags, Window: win, Len: s.len, MSS: mss, WScale: s.wscale, SACKPerm: s.flags&analysis.SYN != 0,
		SACK: s.sack}
}

const (
	syn = analysis.SYN
	ack = analysis.ACK
	fin = analysis.FIN
	rst = analysis.RST
	psh = analysis.PSH
)

// handshake is client ISN 1000, server ISN 5000, no window scaling; it
// ends at 2 ms with frame 3.
func handshake() []step {
	return []step{
		{at: 0, flags: syn, seq: 1000, wscale: -1, acksFrame: -1,
			note: "handshake 1/3: client asks to connect (ISN 1000, MSS 1460, SACK ok)"},
		{fromServer: true, at: time.Millisecond, flags: syn | ack, seq: 5000, ack: 1001, wscale: -1, acksFrame: 1,
			note: "handshake 2/3: server accepts (SYN-ACK, ISN 5000"},
		{at: 2 * time.Millisecond, flags: ack, seq: 1001, ack: 5001, wscale: -1, acksFrame: 2,
			note: "handshake 3/3: connection established in 2.0 ms"},
	}
}

func join(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestRules(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		steps []step
	}{
		{"handshake", handshake()},
		{"data and ACK", join(handshake(), []step{
			{at: 10 * ms, flags: ack | psh, seq: 1001, ack: 5001, len: 12, wscale: -1, acksFrame: -1, note: "12 bytes of data"},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1013, wscale: -1, acksFrame: 4,
				note: "acks 12 bytes sent in #4 (rtt 1.0 ms)"},
		})},
		{"dup acks then fast retransmission", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{at: 10 * ms, flags: ack, seq: 1101, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{at: 10 * ms, flags: ack, seq: 1201, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: 4},
			{fromServer: true, at: 12 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: -1,
				want: analysis.DuplicateAck, dupAckNum: 1, note: "duplicate ACK #1 of #7"},
			{fromServer: true, at: 13 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: -1,
				want: analysis.DuplicateAck, dupAckNum: 2, note: "duplicate ACK #2 of #7"},
			{fromServer: true, at: 14 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: -1,
				want: analysis.DuplicateAck, dupAckNum: 3},
			{at: 15 * ms, flags: ack, seq: 1101, ack: 5001, len: 100, wscale: -1, acksFrame: -1,
				want: analysis.FastRetransmission, note: "fast retransmission after 3 duplicate ACKs"},
		})},
		{"timeout retransmission", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{at: 310 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1,
				want: analysis.Retransmission, note: "retransmission of #4: bytes 1–100 sent again after 300 ms without an ACK"},
		})},
		{"spurious retransmission", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: 4},
			{at: 400 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1,
				want: analysis.SpuriousRetransmission, note: "already acknowledged"},
		})},
		{"out of order", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1101, ack: 5001, len: 100, wscale: -1, acksFrame: -1,
				want: analysis.LostSegment, note: "previous segment not captured: 100 bytes"},
			{at: 10*ms + 100*time.Microsecond, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1,
				want: analysis.OutOfOrder, note: "out of order"},
		})},
		{"ACK of a segment the capture missed", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1301, wscale: -1, acksFrame: -1,
				want: analysis.AckLostSegment, note: "acknowledges data the capture never saw"},
		})},
		{"zero window, probe, probe ACK, window update", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1101, win: 0, wscale: -1, acksFrame: 4,
				want: analysis.ZeroWindow, note: "zero window: receiver has no room"},
			{at: 200 * ms, flags: ack, seq: 1101, ack: 5001, len: 1, wscale: -1, acksFrame: -1,
				want: analysis.ZeroWindowProbe, note: "zero window probe"},
			{fromServer: true, at: 201 * ms, flags: ack, seq: 5001, ack: 1101, win: 0, wscale: -1, acksFrame: -1,
				want: analysis.ZeroWindow | analysis.ZeroWindowProbeAck, note: "answer to the zero window probe"},
			{fromServer: true, at: 300 * ms, flags: ack, seq: 5001, ack: 1101, win: 4000, wscale: -1, acksFrame: -1,
				want: analysis.WindowUpdate, note: "window update: server can now receive 4000 bytes"},
		})},
		{"keep-alive and its ACK", join(handshake(), []step{
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 100, wscale: -1, acksFrame: -1},
			{fromServer: true, at: 11 * ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: 4},
			{at: 60 * time.Second, flags: ack, seq: 1100, ack: 5001, wscale: -1, acksFrame: -1,
				want: analysis.KeepAlive, note: "keep-alive: client checks"},
			{fromServer: true, at: 60*time.Second + ms, flags: ack, seq: 5001, ack: 1101, wscale: -1, acksFrame: -1,
				want: analysis.KeepAliveAck, note: "keep-alive answered"},
		})},
		{"window full", join(handshake(), []step{
			{fromServer: true, at: 5 * ms, flags: ack, seq: 5001, ack: 1001, win: 300, wscale: -1, acksFrame: -1,
				want: analysis.WindowUpdate},
			{at: 10 * ms, flags: ack, seq: 1001, ack: 5001, len: 300, wscale: -1, acksFrame: -1,
				want: analysis.WindowFull, note: "receiver window is full"},
		})},
		{"RST answering a SYN", []step{
			{flags: syn, seq: 1000, wscale: -1, acksFrame: -1},
			{fromServer: true, at: ms, flags: rst | ack, seq: 0, ack: 1001, wscale: -1, acksFrame: 1,
				note: "connection reset by 10.0.0.2:80 (port closed)"},
		}},
		{"FIN teardown then ports reused", join(handshake(), []step{
			{at: 10 * ms, flags: fin | ack, seq: 1001, ack: 5001, wscale: -1, acksFrame: -1, note: "client closes its side (FIN 1/4)"},
			{fromServer: true, at: 11 * ms, flags: fin | ack, seq: 5001, ack: 1002, wscale: -1, acksFrame: 4,
				note: "server closes its side (FIN 3/4)"},
			{at: 12 * ms, flags: ack, seq: 1002, ack: 5002, wscale: -1, acksFrame: 5, note: "acknowledges the server's FIN (4/4)"},
			{at: 20 * ms, flags: syn, seq: 9000, wscale: -1, acksFrame: -1, stream: 1,
				want: analysis.ReusedPorts, note: "new connection on the same ports as stream 0"},
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.New(analysis.Options{})
			for i, st := range tc.steps {
				frame := i + 1
				r := a.Add(st.segment(frame))
				if r.Flags != st.want {
					t.Errorf("#%d flags = %v, want %v (note %q)", frame, r.Flags.Names(), st.want.Names(), r.Note)
				}
				if r.Stream != st.stream {
					t.Errorf("#%d stream = %d, want %d", frame, r.Stream, st.stream)
				}
				if st.acksFrame >= 0 && r.AcksFrame != st.acksFrame {
					t.Errorf("#%d acks_frame = %d, want %d", frame, r.AcksFrame, st.acksFrame)
				}
				if r.DupAckNum != st.dupAckNum {
					t.Errorf("#%d dup_ack_num = %d, want %d", frame, r.DupAckNum, st.dupAckNum)
				}
				if !strings.Contains(r.Note.String(), st.note) {
					t.Errorf("#%d note = %q, want it to contain %q", frame, r.Note, st.note)
				}
				if r.Note.String() == "" {
					t.Errorf("#%d has an empty note", frame)
				}
			}
		})
	}
}

func TestHandshakeFields(t *testing.T) {
	a := analysis.New(analysis.Options{})
	steps := handshake()
	steps[0].wscale, steps[1].wscale = 7, 8
	var rs []analysis.Result
	for i, st := range steps {
		rs = append(rs, a.Add(st.segment(i+1)))
	}
	if rs[0].Conn.Names()[0] != "syn" || rs[1].Conn.Names()[0] != "synack" {
		t.Errorf("conn events = %v, %v", rs[0].Conn.Names(), rs[1].Conn.Names())
	}
	if rs[1].Seq != 0 || rs[1].Ack != 1 || rs[2].Seq != 1 || rs[2].Ack != 1 {
		t.Errorf("relative numbers: synack %d/%d, ack %d/%d", rs[1].Seq, rs[1].Ack, rs[2].Seq, rs[2].Ack)
	}
	if !rs[2].HasInitialRTT || rs[2].InitialRTT != 2*time.Millisecond {
		t.Errorf("initial RTT = %v (%v), want 2ms", rs[2].InitialRTT, rs[2].HasInitialRTT)
	}
	if !rs[1].HasAckRTT || rs[1].AckRTT != time.Millisecond {
		t.Errorf("SYN-ACK ack_rtt = %v, want 1ms", rs[1].AckRTT)
	}
	if rs[0].Win != 1000 || rs[2].Win != 1000<<7 {
		t.Errorf("windows = %d, %d; want 1000 (SYN never scaled) and %d", rs[0].Win, rs[2].Win, 1000<<7)
	}
	if rs[0].Severity != analysis.SeverityChat {
		t.Errorf("SYN severity = %v, want chat", rs[0].Severity)
	}
}

// A window-scale shift above 14 is clamped to 14 (RFC 7323 §2.3).
func TestWindowScaleClamped(t *testing.T) {
	a := analysis.New(analysis.Options{})
	steps := handshake()
	steps[0].wscale, steps[1].wscale = 20, 3
	var last analysis.Result
	for i, st := range steps {
		last = a.Add(st.segment(i + 1))
	}
	if last.Win != 1000<<14 {
		t.Errorf("window = %d, want %d", last.Win, 1000<<14)
	}
}

// Without a SYN the client is guessed from the ports and the note says so;
// relative numbers start at 1.
func TestMidstreamGuess(t *testing.T) {
	a := analysis.New(analysis.Options{})
	r := a.Add(step{fromServer: true, flags: ack, seq: 7000, ack: 300, len: 10, wscale: -1}.segment(1))
	if r.Seq != 1 || r.Ack != 1 {
		t.Errorf("relative seq/ack = %d/%d, want 1/1", r.Seq, r.Ack)
	}
	if !strings.Contains(r.Note.String(), "client guessed from the higher port") {
		t.Errorf("note %q does not say the client is guessed", r.Note)
	}
	s := a.Summaries()
	if len(s) != 1 || s[0].Client != client || !s[0].ClientGuessed || s[0].Ending != analysis.StillOpen {
		t.Errorf("summary = %+v", s)
	}
}

func TestSummaries(t *testing.T) {
	a := analysis.New(analysis.Options{})
	steps := join(handshake(), []step{
		{at: 10 * time.Millisecond, flags: ack | psh, seq: 1001, ack: 5001, len: 12, wscale: -1},
		{fromServer: true, at: 11 * time.Millisecond, flags: rst | ack, seq: 5001, ack: 1013, wscale: -1},
		{at: 20 * time.Millisecond, flags: syn, seq: 1000, wscale: -1}, // same ISN: a retransmitted SYN, same stream
		{flags: syn, seq: 2000, wscale: -1},                            // new ISN: a new stream
	})
	for i, st := range steps {
		a.Add(st.segment(i + 1))
	}
	s := a.Summaries()
	if len(s) != 2 {
		t.Fatalf("%d summaries, want 2", len(s))
	}
	got := s[0]
	if got.Client != client || got.Server != server || got.ClientPackets != 4 || got.ServerPackets != 2 ||
		got.ClientBytes != 12 || !got.HasHandshakeRTT || got.Ending != analysis.ResetByServer || got.Retransmissions != 1 {
		t.Errorf("summary 0 = %+v", got)
	}
	if s[1].Ending != analysis.HandshakeIncomplete {
		t.Errorf("summary 1 ending = %v, want handshake incomplete", s[1].Ending)
	}
}
