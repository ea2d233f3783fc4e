package demo

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/internal/sysabi"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// CallNotes writes the plain note beside each socket call, as the analyzer
// writes one beside each segment: what the call does on the wire, or why
// it does nothing there. It follows the calls (which descriptor listens,
// which will close with RST) and the segments seen so far (which frame
// completed each handshake), so that a note can point at a frame:
// "returns a connection the kernel already established in #3".
type CallNotes struct {
	listening map[fdKey]int            // listening descriptor → backlog
	bound     map[fdKey]netip.AddrPort // as given to bind
	abortive  map[fdKey]bool           // SO_LINGER {1, 0} set: close sends RST
	shutWR    map[fdKey]bool           // shutdown(SHUT_WR) already sent FIN
	reset     map[fdKey]bool           // a call failed with ECONNRESET: the peer's RST ended it

	synAckTo    map[netip.AddrPort]bool // a SYN-ACK went to this client
	established map[netip.AddrPort]est  // client endpoint → the handshake's ACK
}

// est is the segment that completed a handshake in the server's kernel.
type est struct {
	frame int
	at    time.Time
}

// fdKey names a descriptor of one side: the client and the server run in
// one process here, but a traced program's numbers are its own.
type fdKey struct {
	who string
	fd  int
}

// NewCallNotes starts with no calls and no segments seen. Feed it every
// segment (Segment) and every call (Note) in timeline order.
func NewCallNotes() *CallNotes {
	return &CallNotes{
		listening: map[fdKey]int{}, bound: map[fdKey]netip.AddrPort{}, abortive: map[fdKey]bool{}, shutWR: map[fdKey]bool{}, reset: map[fdKey]bool{},
		synAckTo: map[netip.AddrPort]bool{}, established: map[netip.AddrPort]est{},
	}
}

// Segment takes note of a captured segment: a SYN-ACK to a client, then
// that client's first ACK, which completes the handshake in the kernel
// before any accept.
func (c *CallNotes) Segment(frame int, at time.Time, p *decode.Packet) {
	if p.TCP == nil {
		return
	}
	f := p.TCP.Flags()
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	switch {
	case f&analysis.SYN != 0 && f&analysis.ACK != 0:
		// A SYN-ACK (or one sent again because the client's ACK was lost):
		// the client's next ACK is the one that completes the handshake in
		// the server's kernel. Also starts afresh when the ports are reused.
		c.synAckTo[dst] = true
		delete(c.established, dst)
	case f&(analysis.SYN|analysis.RST) == 0 && f&analysis.ACK != 0 && c.synAckTo[src] && c.established[src].frame == 0:
		c.established[src] = est{frame, at}
	}
}

// Note returns the note for e and records what later notes need. A traced
// program's call may say more (programNote).
func (c *CallNotes) Note(e sock.Event) string {
	return programNote(e, c.note(e))
}

func (c *CallNotes) note(e sock.Event) string {
	k := fdKey{e.Who, e.FD}
	if e.Err != nil {
		if sock.ErrnoName(e.Err) == "ECONNRESET" {
			c.reset[k] = true
		}
		return c.failure(e)
	}
	switch e.Kind() {
	case "getaddrinfo":
		if _, err := netip.ParseAddr(e.Host); err == nil {
			return "an address already: nothing to look up, no packet sent"
		}
		return "looks the name up (hosts file, then DNS)"
	case "socket":
		return "a new TCP endpoint; nothing on the wire yet"
	case "setsockopt":
		return optionNote(e, c, k)
	case "getsockopt":
		if e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_RCVBUF {
			return "what the kernel made of SO_RCVBUF (Linux doubles the size asked for)"
		}
		return ""
	case "bind":
		c.bound[k] = e.Addr
		if e.Addr.Port() == 0 {
			return "port 0: the kernel picks a free port (getsockname tells which); nothing on the wire"
		}
		return fmt.Sprintf("claims port %d (htons: bytes %02x %02x on the wire); nothing sent yet", e.Addr.Port(), e.Addr.Port()>>8, e.Addr.Port()&0xff)
	case "listen":
		c.listening[k] = e.Backlog
		return fmt.Sprintf("the kernel now completes handshakes on its own, up to %d waiting", e.Backlog)
	case "getsockname":
		if b, ok := c.bound[k]; ok && b.Port() == 0 {
			return fmt.Sprintf("the port the kernel chose: %d", e.Addr.Port())
		}
		if _, ok := c.bound[k]; !ok && e.Who == "client" {
			return fmt.Sprintf("the client's port %d, an ephemeral port the kernel chose at connect", e.Addr.Port())
		}
		return "this socket's own address"
	case "getpeername":
		return "the address of the other end"
	case "connect":
		return "sends SYN, waits for the SYN-ACK, answers ACK: returns once the handshake is done"
	case "accept":
		if f := c.established[e.Addr]; f.frame != 0 {
			// The connection sat in the listen backlog from the
			// handshake's ACK until this accept took it.
			return fmt.Sprintf("returns a connection the kernel already established in #%d, %s earlier: it waited in the listen backlog (new descriptor %d)",
				f.frame, analysis.FormatDuration(e.Time.Sub(f.at)), e.Ret)
		}
		return fmt.Sprintf("returns a connection the kernel already established (new descriptor %d)", e.Ret)
	case "read":
		if e.Ret == 0 {
			return "returns 0: the peer sent FIN, no more data will come (end of file)"
		}
		return fmt.Sprintf("takes %d byte%s from the receive buffer: data the kernel already received", e.Ret, plural(e.Ret))
	case "write":
		if e.Ret < e.Count {
			return fmt.Sprintf("short write: the send buffer took %d of %d bytes; the program writes the rest next", e.Ret, e.Count)
		}
		return fmt.Sprintf("copies %d byte%s into the send buffer; the kernel sends them as segments", e.Ret, plural(e.Ret))
	case "shutdown":
		switch e.How {
		case sock.ShutWR:
			c.shutWR[k] = true
			return "sends FIN (once the send queue is empty): no more writing, reading goes on"
		case sock.ShutRD:
			return "no more reading; nothing is sent"
		}
		c.shutWR[k] = true
		return "sends FIN; no more reading or writing"
	case "close":
		defer c.forget(k)
		switch {
		case c.listening[k] != 0:
			return "stops listening; connections still waiting to be accepted are reset"
		case c.reset[k]:
			return "frees the descriptor; the peer's RST already ended the connection, nothing is sent"
		case c.abortive[k]:
			return "SO_LINGER 0: sends RST at once, unsent data is thrown away"
		case c.shutWR[k]:
			return "FIN went at shutdown; frees the descriptor"
		}
		return "sends FIN once the send queue is empty"
	}
	return ""
}

// forget drops what was known about a closed descriptor: its number is
// free for the next socket or accept.
func (c *CallNotes) forget(k fdKey) {
	delete(c.listening, k)
	delete(c.bound, k)
	delete(c.abortive, k)
	delete(c.shutWR, k)
	delete(c.reset, k)
}

// optionNote explains a setsockopt.
func optionNote(e sock.Event, c *CallNotes, k fdKey) string {
	switch {
	case e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_REUSEADDR:
		return "lets a restarted server bind its port at once, while old connections sit in TIME-WAIT"
	case e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_RCVBUF:
		return "a small receive buffer: the window this side advertises stays small"
	case e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_SNDBUF && e.Value >= 64<<10:
		// The slow reader's server (echo.SlowReaderSndBuf).
		return "a large send buffer: write hands each echo to the kernel at once, so the loop goes straight back to read"
	case e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_SNDBUF:
		return "a small send buffer: write blocks once that much is unacknowledged"
	case e.Level == sysabi.SOL_SOCKET && e.Option == sysabi.SO_LINGER && e.Linger != nil && e.Linger.Onoff != 0 && e.Linger.Linger == 0:
		c.abortive[k] = true
		return "linger 0: close will send RST instead of FIN (abortive close)"
	case e.Level == sysabi.IPPROTO_TCP && e.Option == sysabi.TCP_NODELAY:
		return "turns off Nagle's algorithm: small writes go out at once"
	case e.Level == sysabi.IPPROTO_TCP && e.Option == sysabi.TCP_MAXSEG:
		return fmt.Sprintf("segments of at most %d bytes: the SYN's MSS option says so", e.Value)
	}
	return ""
}

// failure explains a failed call.
func (c *CallNotes) failure(e sock.Event) string {
	switch sock.ErrnoName(e.Err) {
	case "ECONNREFUSED":
		return "the SYN was answered by RST: nothing listens on that port"
	case "ECONNRESET":
		return "the peer sent RST: the connection is gone"
	case "EPIPE":
		return "the connection is closed for writing"
	case "ETIMEDOUT":
		return "no answer: the kernel gave up after its retransmissions"
	case "EADDRINUSE":
		return "another socket has that port"
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
