package analysis

import (
	"net/netip"
	"slices"

	"github.com/tcpscope/tcpscope/internal/prefault"
)

// DefaultMaxStreams is how many connections an Analyzer keeps state for when
// Options.MaxStreams is 0. Each costs about a kilobyte (more while it has
// unacknowledged segments), so the cap holds a long capture, a SYN flood or
// a port scan of millions of connections to about 10 MB of connection state,
// while captures with fewer connections open at once keep Wireshark's
// analysis exactly. Connections that are over (FIN both ways, or RST) are
// forgotten first, so the cap only touches open connections when more than
// this many are open at the same time. A forgotten connection leaves a
// tombstone (see tomb), so a new SYN on its ports is still flagged
// reused_ports and a late segment continues its stream.
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
// more than Options.MaxStreams were kept. Evicted connections are missing
// from Summaries (unless a late segment brought one back), and a late
// segment on one is analysed without its old state, under its old stream
// number while its tombstone lasts. A non-zero value must be shown to the
// user.
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
			a.last = nil
			if i := nearSlot(e.key.lo, e.key.hi); a.near[i] == e {
				a.near[i] = nil
			}
			a.bury(e.key, e.c)
		}
		for i := range e.c.flow {
			a.dropped += e.c.flow[i].segs.len()
		}
		a.freeSlots = append(a.freeSlots, e) // e.c with it, reset when reused
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

// tomb is what stays of a forgotten connection (about 40 bytes with its
// map slot, against a kilobyte for the connection): its stream number and
// each end's base sequence number. It is enough for what Wireshark, which
// forgets nothing, would still do on those ports: flag a SYN with a new ISN
// as reused_ports (naming the old stream), and continue the old stream for
// a late segment of the old connection (with relative numbers intact; its
// other state is gone, so such a segment gets no retransmission verdict).
type tomb struct {
	stream int
	base   [2]uint32 // by key order: base[0] for key.lo's side
	set    [2]bool
}

// tombsPerStream: tombstones kept per kept connection; the oldest go
// first.
const tombsPerStream = 8

// hashKey is FNV-1a over the pair's addresses and ports: the tombstone
// map's key (8 bytes instead of a 64-byte connKey; a collision among a few
// hundred thousand 64-bit hashes is vanishingly unlikely).
func hashKey(k connKey) uint64 {
	h := uint64(14695981039346656037)
	mix := func(ap netip.AddrPort) {
		a := ap.Addr().As16()
		for _, b := range a {
			h = (h ^ uint64(b)) * 1099511628211
		}
		p := ap.Port()
		h = (h ^ uint64(p>>8)) * 1099511628211
		h = (h ^ uint64(p&0xFF)) * 1099511628211
	}
	mix(k.lo)
	mix(k.hi)
	return h
}

// bury keeps a tombstone for the evicted connection c on pair key,
// dropping the oldest tombstone when there are too many.
func (a *Analyzer) bury(key connKey, c *conn) {
	t := tomb{stream: c.stream}
	for i, end := range c.ends {
		k := key.side(end)
		t.base[k], t.set[k] = c.flow[i].baseSeq, c.flow[i].baseSet
	}
	h := hashKey(key)
	if a.tombs == nil {
		a.tombs = map[uint64]tomb{}
		a.tombRing = make([]uint64, 0, min(tombsPerStream*max(a.maxStreams, 1), 1<<20))
	}
	if _, ok := a.tombs[h]; !ok {
		if len(a.tombRing) < cap(a.tombRing) {
			a.tombRing = append(a.tombRing, h)
		} else {
			delete(a.tombs, a.tombRing[a.tombNext])
			a.tombRing[a.tombNext] = h
			a.tombNext = (a.tombNext + 1) % len(a.tombRing)
		}
	}
	a.tombs[h] = t
}

// exhume looks up the tombstone of a forgotten connection on key.
func (a *Analyzer) exhume(key connKey) (tomb, bool) {
	if len(a.tombs) == 0 {
		return tomb{}, false
	}
	t, ok := a.tombs[hashKey(key)]
	return t, ok
}

// connSlab is how many connections are allocated at once.
const connSlab = 64

// connSlot is a connection and its recency-list node, allocated together,
// with the first storage of its two unacknowledged lists (a short
// connection has one or two segments in flight at a time; more move to
// the heap, keeping the slot small for a flood of connections).
type connSlot struct {
	n     lruNode
	c     conn
	small [2][2]unacked
}

// takeSlot returns a node with its conn (both to be reset by the caller):
// an evicted one, or the next of the current slab.
func (a *Analyzer) takeSlot() *lruNode {
	if k := len(a.freeSlots); k > 0 {
		n := a.freeSlots[k-1]
		a.freeSlots[k-1] = nil
		a.freeSlots = a.freeSlots[:k-1]
		return n
	}
	if len(a.slab) == 0 {
		a.slab = make([]connSlot, connSlab)
		// Written before it is read (newConn reads a slot's old storage
		// first): a page of fresh memory read first is mapped to the
		// kernel's zero page, and the write after it costs a copy and a
		// TLB-flush interrupt to the other core (see internal/prefault).
		prefault.Pages(a.slab)
	}
	sl := &a.slab[0]
	a.slab = a.slab[1:]
	sl.n.c = &sl.c
	for i := range sl.c.flow {
		sl.c.flow[i].segs.small = sl.small[i][:0]
	}
	return &sl.n
}

// flowSpare is the storage of an evicted connection's flow that a new
// connection reuses: emptied slices and an empty B-tree. Storage that grew
// large (a long transfer's) is not kept, so memory stays bounded by what
// short connections need.
type flowSpare struct {
	small, scratch []unacked
	buf            []keyed
	sack           []SACKBlock
	tree           *ordered
}

// spareKeep bounds the slices a reused flow keeps (entries), spareRun its
// long list's run (see ordered).
const (
	spareKeep = 64
	spareRun  = 4096
)

func keepSmall[T any](s []T) []T {
	if cap(s) > spareKeep {
		return nil
	}
	return s[:0]
}

// spare takes f's reusable storage (f is about to be reset).
func (f *flow) spare() flowSpare {
	l := &f.segs
	sp := flowSpare{small: keepSmall(l.small), scratch: keepSmall(l.scratch), buf: keepSmall(l.buf),
		sack: keepSmall(f.sack), tree: l.spare}
	if l.tree != nil {
		l.tree.Clear()
		sp.tree = l.tree
	}
	if sp.tree != nil && cap(sp.tree.run) > spareRun {
		sp.tree.run = nil // a reused flow keeps no huge run
	}
	return sp
}

// reuse gives a freshly reset f the storage sp.
func (f *flow) reuse(sp flowSpare) {
	f.segs.small, f.segs.scratch, f.segs.buf, f.sack, f.segs.spare = sp.small, sp.scratch, sp.buf, sp.sack, sp.tree
}
