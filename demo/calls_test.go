package demo

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// TestCallNotes: the plain note beside each call of a session, in order,
// with the segments that come between them.
func TestCallNotes(t *testing.T) {
	srv := netip.MustParseAddrPort("127.0.0.1:41939")
	cli := netip.MustParseAddrPort("127.0.0.1:50000")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewCallNotes()
	seg := func(frame int, from, to netip.AddrPort, flags uint8) {
		p := tcpPacket(t, from, to, flags)
		c.Segment(frame, t0.Add(time.Duration(frame)*time.Millisecond), &p)
	}
	steps := []struct {
		e    sock.Event
		segs func()
		want string
	}{
		{sock.Event{Who: "server", Call: "socket", FD: -1, Ret: 5}, nil, "a new TCP endpoint; nothing on the wire yet"},
		{sock.Event{Who: "server", Call: "bind", FD: 5, Addr: netip.MustParseAddrPort("127.0.0.1:0")}, nil,
			"port 0: the kernel picks a free port (getsockname tells which); nothing on the wire"},
		{sock.Event{Who: "server", Call: "listen", FD: 5, Backlog: 128}, nil, "the kernel now completes handshakes on its own, up to 128 waiting"},
		{sock.Event{Who: "server", Call: "getsockname", FD: 5, Addr: srv}, nil, "the port the kernel chose: 41939"},
		{sock.Event{Who: "client", Call: "connect", FD: 11, Addr: srv}, nil, "sends SYN, waits for the SYN-ACK, answers ACK: returns once the handshake is done"},
		{sock.Event{Who: "server", Call: "accept", FD: 5, Ret: 12, Addr: cli, Time: t0.Add(10 * time.Millisecond)}, func() {
			seg(1, cli, srv, decode.FlagSYN)
			seg(2, srv, cli, decode.FlagSYN|decode.FlagACK)
			seg(3, cli, srv, decode.FlagACK)
			seg(4, cli, srv, decode.FlagACK|decode.FlagPSH)
		}, "returns a connection the kernel already established in #3, 7.0 ms earlier: it waited in the listen backlog (new descriptor 12)"},
		{sock.Event{Who: "client", Call: "getsockname", FD: 11, Addr: cli}, nil, "the client's port 50000, an ephemeral port the kernel chose at connect"},
		{sock.Event{Who: "client", Call: "write", FD: 11, Count: 13, Ret: 13}, nil, "copies 13 bytes into the send buffer; the kernel sends them as segments"},
		{sock.Event{Who: "client", Call: "write", FD: 11, Count: 65536, Ret: 16384}, nil, "short write: the send buffer took 16384 of 65536 bytes; the program writes the rest next"},
		{sock.Event{Who: "server", Call: "read", FD: 12, Count: 4096, Ret: 1}, nil, "takes 1 byte from the receive buffer: data the kernel already received"},
		{sock.Event{Who: "server", Call: "read", FD: 12, Count: 4096}, nil, "returns 0: the peer sent FIN, no more data will come (end of file)"},
		{sock.Event{Who: "server", Call: "close", FD: 12}, nil, "sends FIN once the send queue is empty"},
		{sock.Event{Who: "server", Call: "setsockopt", FD: 5, Level: unix.SOL_SOCKET, Option: unix.SO_SNDBUF, Value: 1 << 20}, nil,
			"a large send buffer: write hands each echo to the kernel at once, so the loop goes straight back to read"},
		{sock.Event{Who: "client", Call: "setsockopt", FD: 11, Level: unix.SOL_SOCKET, Option: unix.SO_SNDBUF, Value: 16 << 10}, nil,
			"a small send buffer: write blocks once that much is unacknowledged"},
		{sock.Event{Who: "client", Call: "setsockopt", FD: 11, Level: unix.SOL_SOCKET, Option: unix.SO_LINGER, Linger: &sock.Linger{Onoff: 1}}, nil,
			"linger 0: close will send RST instead of FIN (abortive close)"},
		{sock.Event{Who: "client", Call: "close", FD: 11}, nil, "SO_LINGER 0: sends RST at once, unsent data is thrown away"},
		{sock.Event{Who: "server", Call: "close", FD: 5}, nil, "stops listening; connections still waiting to be accepted are reset"},
		{sock.Event{Who: "client", Call: "connect", FD: 7, Addr: srv, Err: unix.ECONNREFUSED}, nil, "the SYN was answered by RST: nothing listens on that port"},
		{sock.Event{Who: "client", Call: "shutdown", FD: 8, How: sock.ShutWR}, nil, "sends FIN (once the send queue is empty): no more writing, reading goes on"},
		{sock.Event{Who: "client", Call: "close", FD: 8}, nil, "FIN went at shutdown; frees the descriptor"},
		{sock.Event{Who: "server", Call: "read", FD: 12, Count: 4096, Err: unix.ECONNRESET}, nil, "the peer sent RST: the connection is gone"},
		{sock.Event{Who: "server", Call: "close", FD: 12}, nil, "frees the descriptor; the peer's RST already ended the connection, nothing is sent"},
		// Descriptor 12 is free again: a new connection on it closes with FIN.
		{sock.Event{Who: "server", Call: "accept", FD: 5, Ret: 12, Addr: cli, Time: t0.Add(20 * time.Millisecond)}, nil,
			"returns a connection the kernel already established in #3, 17 ms earlier: it waited in the listen backlog (new descriptor 12)"},
		{sock.Event{Who: "server", Call: "close", FD: 12}, nil, "sends FIN once the send queue is empty"},
	}
	for i, s := range steps {
		if s.segs != nil {
			s.segs()
		}
		if got := c.Note(s.e); got != s.want {
			t.Errorf("step %d, %s:\n got %q\nwant %q", i, s.e.String(), got, s.want)
		}
	}
}

// tcpPacket decodes a minimal IPv4/TCP packet from a to b with flags.
func tcpPacket(t *testing.T, a, b netip.AddrPort, flags uint8) decode.Packet {
	t.Helper()
	raw := make([]byte, 40)
	raw[0], raw[3], raw[8], raw[9] = 0x45, 40, 64, 6
	src, dst := a.Addr().As4(), b.Addr().As4()
	copy(raw[12:], src[:])
	copy(raw[16:], dst[:])
	tcp := raw[20:]
	tcp[0], tcp[1] = byte(a.Port()>>8), byte(a.Port())
	tcp[2], tcp[3] = byte(b.Port()>>8), byte(b.Port())
	tcp[12], tcp[13] = 5<<4, flags
	tcp[14] = 0xff
	var p decode.Packet
	if err := decode.DecodeIP(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}
