package analysis

import (
	"net/netip"
	"time"
)

// Lifecycle is how a connection began and ended as far as the capture
// shows: its first SYN, how often the SYN was sent, when the handshake
// completed, each side's first FIN and RST. It is the one record behind
// every per-connection summary (the analyzer's Summaries, which replay and
// the demo print, and the stats table), so that they cannot disagree about
// how a connection ended or how long its handshake took.
//
// It is fixed-size, without pointers or time.Time, so that a table can
// keep hundreds of thousands of them in binary form. Side 0 and 1 are the
// caller's (the stats table uses 0 for the client; the analyzer its ends).
type Lifecycle struct {
	FirstSYN, LastSYN int64     // UnixNano of the first and the latest SYN; 0: none seen
	Est               int64     // UnixNano of the handshake's third packet; 0: not seen
	FIN, RST          [2]uint32 // frame of each side's first FIN, RST; 0: none
	SYNs              uint16    // SYNs (without ACK) sent; more than 1: the SYN was resent
	SynAck            bool      // a SYN-ACK was seen
}

// Observe takes note of a segment sent by side at time t in frame.
func (l *Lifecycle) Observe(side int, flags uint8, t time.Time, frame int) {
	ns := t.UnixNano()
	switch {
	case flags&SYN != 0 && flags&ACK == 0:
		if l.SYNs == 0 {
			l.FirstSYN = ns
		}
		l.LastSYN = ns
		if l.SYNs < 1<<16-1 {
			l.SYNs++
		}
	case flags&SYN != 0:
		l.SynAck = true
	case flags&(RST|ACK) == ACK && l.SynAck && l.SYNs > 0 && l.Est == 0:
		// The first plain ACK after the SYN-ACK completes the handshake.
		l.Est = ns
	}
	if flags&FIN != 0 && l.FIN[side] == 0 {
		l.FIN[side] = uint32(frame)
	}
	if flags&RST != 0 && l.RST[side] == 0 {
		l.RST[side] = uint32(frame)
	}
}

// Swap exchanges the two sides (for a table that learns which end is the
// client only at the first SYN).
func (l *Lifecycle) Swap() {
	l.FIN[0], l.FIN[1] = l.FIN[1], l.FIN[0]
	l.RST[0], l.RST[1] = l.RST[1], l.RST[0]
}

// Handshake is the time from the first SYN to the handshake's third
// packet: how long the client waited to be connected, SYN retransmissions
// included. (Wireshark's initial RTT, Summary.HandshakeRTT, is measured
// from the latest SYN instead.) ok is false when no handshake completed in
// the capture, for instance a SYN answered by RST.
func (l *Lifecycle) Handshake() (d time.Duration, ok bool) {
	if l.Est == 0 || l.FirstSYN == 0 {
		return 0, false
	}
	return time.Duration(l.Est - l.FirstSYN), true
}

// Refused reports a SYN answered by RST: no SYN-ACK, no handshake.
func (l *Lifecycle) Refused() bool {
	return l.SYNs > 0 && !l.SynAck && (l.RST[0] != 0 || l.RST[1] != 0)
}

// Ending says how the connection finished, side 0 being the client.
func (l *Lifecycle) Ending() Ending {
	switch {
	case l.Refused():
		return Refused
	case l.RST[0] != 0 && (l.RST[1] == 0 || l.RST[0] < l.RST[1]):
		return ResetByClient
	case l.RST[1] != 0:
		return ResetByServer
	case l.FIN[0] != 0 && l.FIN[1] != 0:
		return ClosedByBoth
	case l.FIN[0] != 0:
		return ClosedByClient
	case l.FIN[1] != 0:
		return ClosedByServer
	case l.SYNs > 0 && l.Est == 0:
		return HandshakeIncomplete
	}
	return StillOpen
}

// FormatDuration writes a duration with a unit a student reads at a
// glance, as every note and summary does: "41 µs", "3.2 ms", "204 ms",
// "3.4 s".
func FormatDuration(d time.Duration) string {
	var buf [24]byte
	return string(appendHuman(buf[:0], d))
}

// AppendDuration appends d as FormatDuration writes it, for renderers
// that build their lines in a buffer.
func AppendDuration(b []byte, d time.Duration) []byte { return appendHuman(b, d) }

// GuessClient picks the client of a connection whose SYN and SYN-ACK the
// capture does not hold: 1 when second (the end that did not send the
// first segment seen) has the higher port, as clients usually pick an
// ephemeral port above the server's well-known one; else 0. Every summary
// guesses with it, so they name the same client.
func GuessClient(first, second netip.AddrPort) int {
	if second.Port() > first.Port() {
		return 1
	}
	return 0
}
