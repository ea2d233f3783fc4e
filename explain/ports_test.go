package explain

import (
	"encoding/binary"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// TestPortRoles: with the handshake seen, the field view names the
// server's port as the server's, even when the server listens on a port
// above 32768 (the demo's server binds port 0 and gets one), instead of
// guessing "probably an ephemeral (client) port" from the number.
func TestPortRoles(t *testing.T) {
	seg := func(sport, dport uint16, flags uint8) frame.Frame {
		b := make([]byte, 40)
		b[0], b[3], b[8], b[9] = 0x45, 40, 64, 6
		copy(b[12:], []byte{127, 0, 0, 1, 127, 0, 0, 1})
		binary.BigEndian.PutUint16(b[20:], sport)
		binary.BigEndian.PutUint16(b[22:], dport)
		b[32], b[33] = 5<<4, flags
		return frame.Frame{Data: b, Meta: frame.Meta{Number: 1, CapLen: 40, OrigLen: 40, Link: frame.LinkRaw}}
	}
	const client, server = 40268, 46181
	for _, tc := range []struct {
		name         string
		f            frame.Frame
		sender       string
		sport, dport string
	}{
		{"SYN, handshake seen", seg(client, server, decode.FlagSYN), "client",
			"the client's port (it sent the SYN): an ephemeral port the kernel chose", "the server's port (the SYN went to it)"},
		{"SYN-ACK, handshake seen", seg(server, client, decode.FlagSYN|decode.FlagACK), "server",
			"the server's port (the SYN went to it)", "the client's port (it sent the SYN): an ephemeral port the kernel chose"},
		{"server's port 8080", seg(8080, client, decode.FlagACK), "server",
			"the server's port (the SYN went to it): well-known port of HTTP alternate", "the client's port (it sent the SYN): an ephemeral port the kernel chose"},
		{"no handshake: the number is all there is", seg(server, client, decode.FlagACK), "",
			"probably an ephemeral (client) port", "probably an ephemeral (client) port"},
	} {
		var p decode.Packet
		if err := decode.Decode(tc.f, &p); err != nil {
			t.Fatal(err)
		}
		e := Build(Meta{Frame: tc.f, Stream: -1, Sender: tc.sender}, &p, binary.LittleEndian)
		got := map[string]string{}
		for _, ly := range e.Layers {
			for _, f := range ly.Fields {
				got[f.Key] = f.Meaning
			}
		}
		if got["tcp.srcport"] != tc.sport || got["tcp.dstport"] != tc.dport {
			t.Errorf("%s:\n source port      %q\n  want            %q\n destination port %q\n  want            %q",
				tc.name, got["tcp.srcport"], tc.sport, got["tcp.dstport"], tc.dport)
		}
	}
}
