package demo

import (
	"net/netip"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// TestCallStatesConnectRace: two clients connect at once (descriptors 17,
// then 18) and the kernel sends 18's SYN first. getsockname then says
// which port each descriptor has, and each close's change goes to its own
// connection (before, 17's close found 18's connection, or none).
func TestCallStatesConnectRace(t *testing.T) {
	c := newCallStates()
	ev := func(call string, fd int, addr netip.AddrPort) sock.Event {
		return sock.Event{Who: "client", Call: call, FD: fd, Addr: addr}
	}
	a, b := netip.MustParseAddrPort("127.0.0.1:45792"), netip.MustParseAddrPort("127.0.0.1:45796")
	c.call(ev("connect", 17, netip.MustParseAddrPort("127.0.0.1:80")))
	c.call(ev("connect", 18, netip.MustParseAddrPort("127.0.0.1:80")))
	srv := netip.MustParseAddrPort("127.0.0.1:80")
	pb, pa := tcpPacket(t, b, srv, decode.FlagSYN), tcpPacket(t, a, srv, decode.FlagSYN)
	c.segment(&analysis.Result{Stream: 0}, &pb) // 18's SYN first
	c.segment(&analysis.Result{Stream: 1}, &pa)
	for _, s := range []int{0, 1} {
		// Established, as the handshake would leave them.
		m, _ := c.tr.Machine(s)
		m.Set(tcpstate.Client, tcpstate.Established)
	}
	c.call(ev("getsockname", 18, b))
	c.call(ev("getsockname", 17, a))
	if ch, ok := c.call(ev("close", 17, netip.AddrPort{})); !ok || ch.To != tcpstate.FinWait1 {
		t.Fatalf("close(17): %+v, %v; want ESTABLISHED → FIN-WAIT-1", ch, ok)
	}
	if st, _ := mustMachine(t, c, 1).State(tcpstate.Client); st != tcpstate.FinWait1 {
		t.Errorf("17's connection (stream 1) is %v, want FIN-WAIT-1", st)
	}
	if st, _ := mustMachine(t, c, 0).State(tcpstate.Client); st != tcpstate.Established {
		t.Errorf("18's connection (stream 0) is %v, want ESTABLISHED still", st)
	}
	if ch, ok := c.call(ev("close", 18, netip.AddrPort{})); !ok || ch.To != tcpstate.FinWait1 {
		t.Fatalf("close(18): %+v, %v; want ESTABLISHED → FIN-WAIT-1", ch, ok)
	}
}

func mustMachine(t *testing.T, c *callStates, s int) *tcpstate.Machine {
	t.Helper()
	m, _ := c.tr.Machine(s)
	if m == nil {
		t.Fatalf("stream %d not followed", s)
	}
	return m
}

// TestCallStatesConnectLocal: a connect that knows its own end (the
// reference peers' Event.Local) is matched to its own SYN whatever the
// order, with no getsockname (the HTTP client calls none).
func TestCallStatesConnectLocal(t *testing.T) {
	c := newCallStates()
	a, b := netip.MustParseAddrPort("127.0.0.1:45792"), netip.MustParseAddrPort("127.0.0.1:45796")
	srv := netip.MustParseAddrPort("127.0.0.1:80")
	c.call(sock.Event{Who: "client", Call: "connect", FD: 17, Addr: srv, Local: a})
	c.call(sock.Event{Who: "client", Call: "connect", FD: 18, Addr: srv, Local: b})
	pb, pa := tcpPacket(t, b, srv, decode.FlagSYN), tcpPacket(t, a, srv, decode.FlagSYN)
	c.segment(&analysis.Result{Stream: 0}, &pb) // 18's SYN first
	c.segment(&analysis.Result{Stream: 1}, &pa)
	mustMachine(t, c, 0).Set(tcpstate.Client, tcpstate.Established)
	mustMachine(t, c, 1).Set(tcpstate.Client, tcpstate.CloseWait)
	if ch, ok := c.call(sock.Event{Who: "client", Call: "close", FD: 17}); !ok || ch.To != tcpstate.LastAck {
		t.Fatalf("close(17): %+v, %v; want CLOSE-WAIT → LAST-ACK (its connection, stream 1)", ch, ok)
	}
	if ch, ok := c.call(sock.Event{Who: "client", Call: "close", FD: 18}); !ok || ch.To != tcpstate.FinWait1 {
		t.Fatalf("close(18): %+v, %v; want ESTABLISHED → FIN-WAIT-1 (its connection, stream 0)", ch, ok)
	}
}
