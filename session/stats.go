package session

import (
	"net/netip"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
)

// Conn sums up one connection: who talked to whom, how much, how well, and
// how it ended. Index 0 of the per-side arrays is the client.
type Conn struct {
	Stream int
	// Client and Server: the SYN's sender is the client. Without a SYN or
	// SYN-ACK in the capture the first sender is taken for the client and
	// ClientGuessed is set (a teaching table should not pretend to know).
	Client, Server netip.AddrPort
	ClientGuessed  bool
	First, Last    time.Time

	Packets [2]int // segments sent by client, server
	Bytes   [2]int // frame bytes on the wire (what tshark's conversation table counts)
	Payload [2]int // TCP payload bytes as sent (retransmissions counted again)

	HandshakeRTT    time.Duration // SYN to the handshake's third packet
	HasHandshakeRTT bool

	Retransmissions int // every kind: timeout, fast, spurious
	DupAcks         int
	ZeroWindows     int

	sawSYN     bool
	fin, rst   [2]int // frame of each side's first FIN / RST; 0 = none
	clientSure bool
}

// Ending says how the connection finished, as far as the capture shows, in
// words for the table ("reset by server", "closed by client", …). The
// client is whoever sent the SYN.
func (c *Conn) Ending() string {
	who := [2]string{"client", "server"}
	switch {
	case c.rst[0] != 0 || c.rst[1] != 0:
		d := 0
		if c.rst[0] == 0 || c.rst[1] != 0 && c.rst[1] < c.rst[0] {
			d = 1
		}
		return "reset by " + who[d]
	case c.fin[0] != 0 && c.fin[1] != 0:
		d := 0
		if c.fin[1] < c.fin[0] {
			d = 1
		}
		return "closed by " + who[d]
	case c.fin[0] != 0:
		return "half-closed by client"
	case c.fin[1] != 0:
		return "half-closed by server"
	case c.sawSYN && !c.HasHandshakeRTT:
		return "handshake incomplete"
	}
	return "still open"
}

// Duration is the time from the connection's first to its last segment.
func (c *Conn) Duration() time.Duration { return c.Last.Sub(c.First) }

// Table sums up every connection of a capture, one Conn per tcp.stream.
// Feed it every pipeline item in capture order.
type Table struct {
	conns []*Conn
}

// Add counts one frame; frames without an analyzed TCP segment are ignored.
func (t *Table) Add(it *pipeline.Item) {
	if !it.Analyzed {
		return
	}
	r := &it.Result
	for len(t.conns) <= r.Stream {
		t.conns = append(t.conns, nil)
	}
	p := &it.Packet
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	m := it.Frame.Meta
	c := t.conns[r.Stream]
	if c == nil {
		c = &Conn{Stream: r.Stream, Client: src, Server: dst, First: m.Time, ClientGuessed: true}
		t.conns[r.Stream] = c
	}
	flags := p.TCP.Flags()
	// The SYN's sender (or the SYN-ACK's receiver) is the client; decide
	// once, at the first such segment.
	if !c.clientSure && flags&analysis.SYN != 0 {
		client := src
		if flags&analysis.ACK != 0 {
			client = dst
		}
		if client != c.Client {
			c.swap() // what was counted so far was counted the wrong way round
		}
		c.clientSure, c.ClientGuessed = true, false
	}
	if flags&analysis.SYN != 0 && flags&analysis.ACK == 0 {
		c.sawSYN = true
	}
	d := 0
	if src != c.Client {
		d = 1
	}
	c.Last = m.Time
	c.Packets[d]++
	wire := m.OrigLen
	if wire == 0 {
		wire = m.CapLen
	}
	c.Bytes[d] += wire
	c.Payload[d] += p.PayloadLen
	if r.HasInitialRTT && !c.HasHandshakeRTT {
		c.HandshakeRTT, c.HasHandshakeRTT = r.InitialRTT, true
	}
	if r.Flags&(analysis.Retransmission|analysis.FastRetransmission|analysis.SpuriousRetransmission) != 0 {
		c.Retransmissions++
	}
	if r.Flags.Has(analysis.DuplicateAck) {
		c.DupAcks++
	}
	if r.Flags.Has(analysis.ZeroWindow) {
		c.ZeroWindows++
	}
	if flags&analysis.FIN != 0 && c.fin[d] == 0 {
		c.fin[d] = m.Number
	}
	if flags&analysis.RST != 0 && c.rst[d] == 0 {
		c.rst[d] = m.Number
	}
}

// swap exchanges the client's and the server's roles and counts.
func (c *Conn) swap() {
	c.Client, c.Server = c.Server, c.Client
	c.Packets[0], c.Packets[1] = c.Packets[1], c.Packets[0]
	c.Bytes[0], c.Bytes[1] = c.Bytes[1], c.Bytes[0]
	c.Payload[0], c.Payload[1] = c.Payload[1], c.Payload[0]
	c.fin[0], c.fin[1] = c.fin[1], c.fin[0]
	c.rst[0], c.rst[1] = c.rst[1], c.rst[0]
}

// Conns returns the connections by stream number. Streams are numbered as
// the analyzer numbers them, so none is missing.
func (t *Table) Conns() []*Conn {
	out := make([]*Conn, 0, len(t.conns))
	for _, c := range t.conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// Totals adds up every connection (First/Last span them all; the RTT and
// the ending are meaningless for a total and left zero).
func (t *Table) Totals() Conn {
	var tot Conn
	tot.Stream = -1
	for i, c := range t.Conns() {
		if i == 0 || c.First.Before(tot.First) {
			tot.First = c.First
		}
		if c.Last.After(tot.Last) {
			tot.Last = c.Last
		}
		for d := 0; d < 2; d++ {
			tot.Packets[d] += c.Packets[d]
			tot.Bytes[d] += c.Bytes[d]
			tot.Payload[d] += c.Payload[d]
		}
		tot.Retransmissions += c.Retransmissions
		tot.DupAcks += c.DupAcks
		tot.ZeroWindows += c.ZeroWindows
	}
	return tot
}
