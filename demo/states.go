package demo

import (
	"net/netip"
	"strings"

	"github.com/tcpscope/tcpscope/internal/sysabi"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// callStates follows each side's TCP state through the demo: the segments
// drive a tcpstate.Tracker as in replay, and the socket calls that change a
// state do so where the lecture's diagram puts them, before the segments
// they cause: listen → LISTEN, connect → SYN-SENT, close → FIN-WAIT-1 or
// LAST-ACK (CLOSED with SO_LINGER 0), shutdown(SHUT_WR) → the same as
// close's FIN. The segment then does not say the change again.
type callStates struct {
	tr       tcpstate.Tracker
	streams  map[fdKey]int            // connected or accepted descriptor → stream
	byClient map[netip.AddrPort]int   // client endpoint → its stream (for accept)
	connects []fdKey                  // connect calls whose SYN is still to come
	byLocal  map[netip.AddrPort]fdKey // those of them whose own end is known (Event.Local)
	seen     map[int]bool             // streams met so far
	listen   map[fdKey]bool           // listening descriptors
	linger0  map[fdKey]bool           // SO_LINGER {1, 0}: close sends RST
	finSent  map[fdKey]bool           // shutdown already sent FIN
	buf      [4]tcpstate.Change
}

func newCallStates() *callStates {
	return &callStates{streams: map[fdKey]int{}, byClient: map[netip.AddrPort]int{}, byLocal: map[netip.AddrPort]fdKey{}, seen: map[int]bool{},
		listen: map[fdKey]bool{}, linger0: map[fdKey]bool{}, finSent: map[fdKey]bool{}}
}

func endOf(who string) tcpstate.End {
	if strings.HasPrefix(who, "server") { // also "server[4242]", one of a traced server's processes
		return tcpstate.Server
	}
	return tcpstate.Client
}

// call applies a socket call and returns the change it makes, if any.
func (c *callStates) call(e sock.Event) (tcpstate.Change, bool) {
	k := fdKey{e.Who, e.FD}
	if e.Err != nil {
		return tcpstate.Change{}, false
	}
	switch e.Kind() {
	case "listen":
		c.listen[k] = true
		c.tr.Listening = true
		return tcpstate.Change{End: endOf(e.Who), From: tcpstate.Closed, To: tcpstate.Listen}, true
	case "connect":
		if e.Local.IsValid() {
			c.byLocal[e.Local] = k
		} else {
			c.connects = append(c.connects, k)
		}
		c.tr.Expect(endOf(e.Who), tcpstate.SynSent)
		return tcpstate.Change{End: endOf(e.Who), From: tcpstate.Closed, To: tcpstate.SynSent}, true
	case "accept":
		if s, ok := c.byClient[e.Addr]; ok {
			c.streams[fdKey{e.Who, e.Ret}] = s
		}
	case "getsockname":
		c.bind(k, e.Addr)
	case "setsockopt":
		if e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_LINGER && e.Linger != nil {
			c.linger0[k] = e.Linger.Onoff != 0 && e.Linger.Linger == 0
		}
	case "shutdown":
		if e.How == sock.ShutRD {
			return tcpstate.Change{}, false
		}
		c.finSent[k] = true
		return c.fin(k, e.Who)
	case "close":
		switch {
		case e.Shared > 0:
			// Another descriptor (a traced server's child after fork)
			// still holds the socket: this close changes nothing.
		case c.listen[k]:
			delete(c.listen, k)
			if len(c.listen) == 0 {
				c.tr.Listening = false
			}
			return tcpstate.Change{End: endOf(e.Who), From: tcpstate.Listen, To: tcpstate.Closed}, true
		case c.linger0[k]:
			if m := c.machine(k); m != nil {
				return m.Set(endOf(e.Who), tcpstate.Closed)
			}
		case !c.finSent[k]:
			return c.fin(k, e.Who)
		}
	}
	return tcpstate.Change{}, false
}

// bind corrects which stream a connected descriptor holds, once a
// getsockname names its local end (a client's port). segment gave each
// connect the next new connection's SYN, in call order; but two clients
// connecting at once may send their SYNs in the other order, and their
// closes then went to each other's connection (or, the other's state being
// SYN-SENT still, to none). The descriptor that had the stream takes this
// one's old stream in exchange.
func (c *callStates) bind(k fdKey, local netip.AddrPort) {
	s, ok := c.byClient[local]
	if !ok || endOf(k.who) != tcpstate.Client {
		return
	}
	old, had := c.streams[k]
	if had && old == s {
		return
	}
	for j, t := range c.streams {
		if t == s && j != k && j.who == k.who {
			if had {
				c.streams[j] = old
			} else {
				delete(c.streams, j)
			}
		}
	}
	c.streams[k] = s
}

func (c *callStates) machine(k fdKey) *tcpstate.Machine {
	s, ok := c.streams[k]
	if !ok {
		return nil
	}
	m, _ := c.tr.Machine(s)
	return m
}

// fin is the change of a call that sends FIN: ESTABLISHED → FIN-WAIT-1,
// CLOSE-WAIT → LAST-ACK.
func (c *callStates) fin(k fdKey, who string) (tcpstate.Change, bool) {
	m := c.machine(k)
	if m == nil {
		return tcpstate.Change{}, false
	}
	e := endOf(who)
	switch st, _ := m.State(e); st {
	case tcpstate.Established, tcpstate.SynReceived:
		return m.Set(e, tcpstate.FinWait1)
	case tcpstate.CloseWait:
		return m.Set(e, tcpstate.LastAck)
	}
	return tcpstate.Change{}, false
}

// segment feeds one analysed segment and returns the changes it causes
// (valid until the next call).
func (c *callStates) segment(r *analysis.Result, p *decode.Packet) []tcpstate.Change {
	t := p.TCP
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	out := c.tr.Step(r.Stream, src, dst, tcpstate.Seg{Flags: t.Flags(), Seq: t.Seq(), Ack: t.Ack(), Len: p.PayloadLen}, c.buf[:0])
	if !c.seen[r.Stream] {
		c.seen[r.Stream] = true
		_, client := c.tr.Machine(r.Stream)
		c.byClient[client] = r.Stream
		isSYN := t.Flags()&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN && client == src
		if k, ok := c.byLocal[client]; ok && isSYN {
			c.streams[k] = r.Stream
			delete(c.byLocal, client)
		} else if isSYN && len(c.connects) > 0 {
			// The SYNs of connects made at once may come in either order:
			// a getsockname corrects this guess (bind).
			c.streams[c.connects[0]] = r.Stream
			c.connects = c.connects[1:]
		}
	}
	return out
}
