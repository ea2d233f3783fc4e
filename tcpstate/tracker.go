package tcpstate

import (
	"container/list"
	"net/netip"
)

// DefaultMax is how many connections a Tracker follows at once by default,
// as many as the analysis keeps (analysis.DefaultMaxStreams).
const DefaultMax = 10000

// Tracker follows the state of every connection of a capture, keyed by the
// analysis's stream number (so a reused port pair is a new connection). It
// keeps at most Max connections, forgetting the least recently used one
// beyond that (a finished connection is usually that one): memory stays
// bounded on a capture of millions of connections. A forgotten connection
// seen again is taken up as one joined in the middle (Inferred).
type Tracker struct {
	Max int // 0 means DefaultMax
	// Listening: the server end of every new connection starts in LISTEN
	// (the demo's listen call said so) rather than unknown.
	Listening bool

	conns  map[int]*list.Element
	lru    list.List // of *conn, most recently used first
	expect [2][]State
	// front is the connection at the front of lru, the one the last
	// segment belonged to: the next segment is often of the same one (a
	// bulk transfer's), and then needs neither the map nor the list.
	front *conn
	// recent holds the last few connections found in the map: a capture
	// of many short connections interleaves a few at a time (make bench's
	// big.pcap, 20 000 of them, three or four at once), and the map
	// lookup, a cache miss in a table of thousands, was 3 % of replay's
	// CPU there. An entry is dropped when its connection is forgotten.
	recent [4]recentConn
	next   int // the entry of recent the next connection found replaces
}

type recentConn struct {
	stream int
	c      *conn
	el     *list.Element // nil: an empty entry
}

type conn struct {
	stream int
	client netip.AddrPort
	m      Machine
}

// Expect makes the next new connection start with end e in state s: the
// demo's connect call has shown CLOSED → SYN-SENT already, so the SYN does
// not say it again.
func (t *Tracker) Expect(e End, s State) { t.expect[e] = append(t.expect[e], s) }

// Step feeds one segment of stream, sent from src to dst, and appends the
// state changes it causes to out.
func (t *Tracker) Step(stream int, src, dst netip.AddrPort, s Seg, out []Change) []Change {
	c := t.get(stream, src, dst, s)
	from := Client
	if src != c.client {
		from = Server
	}
	return c.m.Step(from, s, out)
}

// Machine returns the state machine of stream and its client's address, or
// nil when the stream is not (or no longer) followed.
func (t *Tracker) Machine(stream int) (*Machine, netip.AddrPort) {
	if el, ok := t.conns[stream]; ok {
		c := el.Value.(*conn)
		return &c.m, c.client
	}
	return nil, netip.AddrPort{}
}

// Len is how many connections are followed now.
func (t *Tracker) Len() int { return t.lru.Len() }

func (t *Tracker) get(stream int, src, dst netip.AddrPort, s Seg) *conn {
	if t.conns == nil {
		t.conns = map[int]*list.Element{}
	}
	if c := t.front; c != nil && c.stream == stream {
		return c
	}
	for i := range t.recent {
		if r := &t.recent[i]; r.el != nil && r.stream == stream {
			t.lru.MoveToFront(r.el)
			t.front = r.c
			return r.c
		}
	}
	if el, ok := t.conns[stream]; ok {
		t.lru.MoveToFront(el)
		t.front = el.Value.(*conn)
		t.remember(stream, t.front, el)
		return t.front
	}
	max := t.Max
	if max <= 0 {
		max = DefaultMax
	}
	var c *conn
	if t.lru.Len() >= max {
		// Reuse the least recently used connection's memory.
		el := t.lru.Back()
		c = el.Value.(*conn)
		delete(t.conns, c.stream)
		t.lru.Remove(el)
		for i := range t.recent {
			if t.recent[i].el == el {
				t.recent[i] = recentConn{}
			}
		}
		*c = conn{}
	} else {
		c = &conn{}
	}
	c.stream = stream
	switch {
	case s.Flags&(SYN|ACK) == SYN:
		c.client = src
	case s.Flags&(SYN|ACK) == SYN|ACK:
		c.client = dst
	case src.Port() > dst.Port():
		c.client = src
	default:
		c.client = dst
	}
	if s.Flags&SYN != 0 {
		// A connection seen from its handshake: the demo's calls apply.
		for e := range t.expect {
			if len(t.expect[e]) > 0 {
				c.m.Set(End(e), t.expect[e][0])
				t.expect[e] = t.expect[e][1:]
			}
		}
		if t.Listening && c.m.st[Server] == Unknown {
			c.m.Set(Server, Listen)
		}
	}
	el := t.lru.PushFront(c)
	t.conns[stream] = el
	t.front = c
	t.remember(stream, c, el)
	return c
}

// remember puts a connection just found or made into recent, in place of
// the oldest entry.
func (t *Tracker) remember(stream int, c *conn, el *list.Element) {
	t.recent[t.next] = recentConn{stream, c, el}
	t.next = (t.next + 1) % len(t.recent)
}
