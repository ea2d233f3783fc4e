package analysis

import (
	"net/netip"
	"time"
)

// TCP header flag bits, as in byte 13 of the TCP header (RFC 9293 §3.1).
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	PSH uint8 = 0x08
	ACK uint8 = 0x10
	URG uint8 = 0x20
	ECE uint8 = 0x40
	CWR uint8 = 0x80
)

// SACKBlock is one SACK block [Left, Right) in raw (absolute) sequence numbers.
type SACKBlock struct{ Left, Right uint32 }

// Segment is what the analyzer needs to know about one TCP segment: plain
// integers in host order, already converted from the wire by decode. It keeps
// no reference to the frame bytes.
type Segment struct {
	Frame int       // 1-based frame number in the capture
	Time  time.Time // capture timestamp

	Src, Dst netip.AddrPort // addresses and ports (ports in host order)

	Seq, Ack uint32 // raw header values
	Flags    uint8  // header flag bits (FIN … CWR); the AE/NS bit is not included
	Window   uint16 // raw 16-bit window field, before scaling
	Len      int    // TCP payload length (IP payload length − TCP header length)

	// Options, as found on this segment.
	MSS      int         // -1 when absent
	WScale   int         // shift count as sent (not yet clamped to 14); -1 when absent
	SACKPerm bool        // SACK-permitted option present
	SACK     []SACKBlock // SACK blocks; nil when none. The analyzer copies what it keeps.
	// EmptySACK: the segment carries a SACK option with no block. Wireshark
	// 4.0 stops dissecting such a segment ("Malformed Packet") before it
	// shows the sequence analysis, so the result leaves those fields empty
	// (the state is still updated, as in Wireshark).
	EmptySACK bool
	// OptionsUnseen: the header was not dissected as far as its options
	// (cut by the snaplen inside the fixed 20 bytes, or a bogus data
	// offset). Wireshark then never runs its window-scale check on the
	// segment, so a SYN-ACK without a visible option does not switch
	// scaling off for the connection.
	OptionsUnseen bool
	HasTS         bool // timestamps option present
	TSVal         uint32
	TSEcr         uint32
}
