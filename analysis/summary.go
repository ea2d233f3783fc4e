package analysis

import (
	"iter"
	"net/netip"
	"slices"
	"time"
)

// Ending says how a connection finished, as far as the capture shows.
type Ending uint8

// The possible endings. A RST wins over FINs: it is what finally closed it.
const (
	StillOpen           Ending = iota // no FIN or RST seen yet
	HandshakeIncomplete               // a SYN was seen but never completed, and no FIN/RST
	ClosedByClient                    // only the client sent a FIN: half-closed
	ClosedByServer                    // only the server sent a FIN: half-closed
	ClosedByBoth                      // both sides sent a FIN
	ResetByClient                     // the client sent a RST
	ResetByServer                     // the server sent a RST
	Refused                           // the SYN was answered by RST: no handshake
)

// String returns a short phrase for the ending, e.g. "reset by server".
func (e Ending) String() string {
	switch e {
	case HandshakeIncomplete:
		return "handshake incomplete"
	case ClosedByClient:
		return "half-closed by client (FIN)"
	case ClosedByServer:
		return "half-closed by server (FIN)"
	case ClosedByBoth:
		return "closed by both (FIN)"
	case ResetByClient:
		return "reset by client"
	case ResetByServer:
		return "reset by server"
	case Refused:
		return "refused: the SYN was answered by RST"
	}
	return "still open"
}

// Summary describes one connection (one tcp.stream) as a whole, for a
// per-connection table: who talked to whom, how much, how well, and how it
// ended.
type Summary struct {
	Stream         int
	Client, Server netip.AddrPort
	// ClientGuessed is true when no SYN or SYN-ACK was seen, so the client
	// was taken to be the end with the higher port.
	ClientGuessed bool
	First, Last   time.Time

	ClientPackets, ServerPackets int // segments sent by each side
	ClientBytes, ServerBytes     int // TCP payload bytes sent by each side

	HandshakeRTT    time.Duration // Wireshark's initial RTT: the latest SYN to the third handshake packet
	HasHandshakeRTT bool

	// Handshake is the time from the first SYN to the third handshake
	// packet, SYN retransmissions included (Lifecycle.Handshake); SYNs
	// counts the SYNs sent. HasHandshake is false when no handshake
	// completed (a SYN answered by RST, for one).
	Handshake    time.Duration
	HasHandshake bool
	SYNs         int

	Retransmissions int // all kinds: timeout, fast, spurious
	DupAcks         int
	ZeroWindows     int
	Ending          Ending

	// StateDropped is true when some unacknowledged segments were not kept
	// (the MaxUnacked cap) or were forgotten when the connection was retired,
	// so ACK-related results may be incomplete for this connection.
	StateDropped bool
}

// Summaries returns one Summary per connection seen so far and still kept
// (see EvictedStreams), by stream number.
// It can be called at any time; later Adds do not change the returned slice.
func (a *Analyzer) Summaries() []Summary { return slices.Collect(a.EachSummary()) }

// SummaryCount is how many summaries Summaries returns (and EachSummary
// yields) now.
func (a *Analyzer) SummaryCount() int { return a.lru.n + a.closed.n }

// EachSummary yields what Summaries returns, one summary at a time, without
// the list: a capture of short connections holds tens of thousands, and
// their list, made after the last segment, was 5 MB for the collector to
// make room for when little else is left to do. Adds must not be called
// while it runs.
func (a *Analyzer) EachSummary() iter.Seq[Summary] {
	return func(yield func(Summary) bool) {
		for _, c := range a.conns() {
			if !yield(c.summary()) {
				return
			}
		}
	}
}

// summary is c's Summary.
func (c *conn) summary() Summary {
	cl := c.client
	if !c.clientSet {
		cl = GuessClient(c.ends[0], c.ends[1])
	}
	cf, sf := &c.flow[cl], &c.flow[1-cl]
	s := Summary{
		Stream: c.stream, Client: c.ends[cl], Server: c.ends[1-cl], ClientGuessed: !c.clientSet,
		First: c.first, Last: c.last,
		ClientPackets: cf.packets, ServerPackets: sf.packets,
		ClientBytes: cf.bytes, ServerBytes: sf.bytes,
		HandshakeRTT: c.irtt, HasHandshakeRTT: c.hasIRTT,
		Retransmissions: cf.retrans + sf.retrans,
		DupAcks:         cf.dupAcks + sf.dupAcks,
		ZeroWindows:     cf.zeroWindows + sf.zeroWindows,
		StateDropped:    cf.dropped || sf.dropped,
	}
	life := c.life
	if cl == 1 {
		life.Swap()
	}
	s.Handshake, s.HasHandshake = life.Handshake()
	s.SYNs = int(life.SYNs)
	s.Ending = life.Ending()
	return s
}
