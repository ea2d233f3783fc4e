package analysis

import "slices"

// DefaultMaxStreams is how many connections an Analyzer keeps state for when
// Options.MaxStreams is 0. Each costs about a kilobyte (more while it has
// unacknowledged segments), so the cap holds a long capture, a SYN flood or
// a port scan of millions of connections to about 10 MB of connection state,
// while captures with fewer connections open at once keep Wireshark's
// analysis exactly. Connections that are over (FIN both ways, or RST) are
// forgotten first, so the cap only touches open connections when more than
// this many are open at the same time. A forgotten connection is gone: a
// later segment on its ports starts a new stream, and a new SYN there is not
// flagged reused_ports (Wireshark, which forgets nothing, would do both).
const DefaultMaxStreams = 10000

// lruNode links one connection into one of the analyzer's recency lists
// (open or closed connections). It lives outside conn so that eviction
// stays out of the per-segment hot path's data structures: only Add touches
// it, once per segment, in O(1).
type lruNode struct {
	c          *conn
	key        connKey
	prev, next *lruNode
	closed     bool // on the closed list: the connection was retired
}

// lruList is an intrusive doubly-linked list of kept connections, most
// recently used first. A sentinel makes every operation branch-free.
type lruList struct {
	root lruNode
	n    int
}

func (l *lruList) init() { l.root.prev, l.root.next = &l.root, &l.root }

func (l *lruList) pushFront(e *lruNode) {
	e.prev, e.next = &l.root, l.root.next
	l.root.next.prev = e
	l.root.next = e
	l.n++
}

func (l *lruList) remove(e *lruNode) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	l.n--
}

func (l *lruList) moveToFront(e *lruNode) {
	if l.root.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &l.root, l.root.next
	l.root.next.prev = e
	l.root.next = e
}

func (l *lruList) back() *lruNode {
	if l.n == 0 {
		return nil
	}
	return l.root.prev
}

// EvictedStreams counts the connections whose state was forgotten because
// more than Options.MaxStreams were open at once. Evicted connections are
// missing from Summaries, and a later segment on the same address/port pair
// starts a new stream number (Wireshark, which never forgets, would continue
// the old one). A non-zero value must be shown to the user.
func (a *Analyzer) EvictedStreams() int { return a.evicted }

// MaxStreams is the connection-table limit in force (negative: none).
func (a *Analyzer) MaxStreams() int { return a.maxStreams }

// touch marks n as the most recently used connection of its list.
func (a *Analyzer) touch(n *lruNode) {
	if n.closed {
		a.closed.moveToFront(n)
	} else {
		a.lru.moveToFront(n)
	}
}

// close moves a retired connection from the open list to the closed one,
// whose least recently used members are evicted first.
func (a *Analyzer) close(n *lruNode) {
	if n.closed {
		return
	}
	a.lru.remove(n)
	n.closed = true
	a.closed.pushFront(n)
}

// evictOverflow forgets connections until at most maxStreams are kept: the
// least recently used closed connection first, and an open one only when
// none is closed. keep is never evicted (it is the connection being
// analysed). The unacknowledged segments an evicted connection still held
// count as dropped, as at retirement.
func (a *Analyzer) evictOverflow(keep *lruNode) {
	if a.maxStreams < 0 {
		return
	}
	for a.lru.n+a.closed.n > a.maxStreams {
		l := &a.closed
		if l.n == 0 {
			l = &a.lru
		}
		e := l.back()
		if e == keep {
			return
		}
		l.remove(e)
		if a.current[e.key] == e {
			delete(a.current, e.key)
		}
		for i := range e.c.flow {
			a.dropped += len(e.c.flow[i].segs)
		}
		e.c = nil
		a.evicted++
	}
}

// conns returns the kept connections by stream number.
func (a *Analyzer) conns() []*conn {
	out := make([]*conn, 0, a.lru.n+a.closed.n)
	for _, l := range []*lruList{&a.lru, &a.closed} {
		for e := l.root.next; e != &l.root; e = e.next {
			out = append(out, e.c)
		}
	}
	slices.SortFunc(out, func(x, y *conn) int { return x.stream - y.stream })
	return out
}
