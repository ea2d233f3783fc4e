package decode

import "strconv"

// TCP header, RFC 9293 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |      A|R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// (A = the AE bit of Accurate ECN, RFC 9768, formerly NS.)
const (
	tcpSrcPort  = 0  // 2 bytes, network order
	tcpDstPort  = 2  // 2 bytes, network order
	tcpSeq      = 4  // 4 bytes, network order
	tcpAck      = 8  // 4 bytes, network order
	tcpDataOff  = 12 // 1 byte: data offset (high 4 bits, 32-bit words), reserved 3 bits, AE (low bit)
	tcpFlags    = 13 // 1 byte: CWR ECE URG ACK PSH RST SYN FIN
	tcpWindow   = 14 // 2 bytes, network order
	tcpChecksum = 16 // 2 bytes, network order
	tcpUrgent   = 18 // 2 bytes, network order
	tcpMinLen   = 20
)

// TCP flag bits of byte 13.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagPSH uint8 = 0x08
	FlagACK uint8 = 0x10
	FlagURG uint8 = 0x20
	FlagECE uint8 = 0x40
	FlagCWR uint8 = 0x80
)

// FlagNames lists the flag names of byte 13 from the most significant bit,
// the order tcpscope prints them in.
var flagNames = [8]string{"CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN"}

// FlagName returns the name of bit i (0 = CWR … 7 = FIN) of the flags byte.
func FlagName(i int) string { return flagNames[i] }

// TCP is a view of a TCP header. ParseTCP guarantees len(t) >= 20 and
// len(t) >= t.HeaderLen() unless it also returned ErrTruncated for the
// options, in which case Options() returns what was captured.
type TCP []byte

// ParseTCP validates b as a TCP header. A header cut inside its options
// returns the view and an ErrTruncated error: the fixed 20 bytes are usable.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < tcpMinLen {
		return nil, errAt("tcp", 0, ErrTruncated, "header needs 20 bytes, have "+strconv.Itoa(len(b)))
	}
	t := TCP(b)
	if t.DataOffset() < 5 {
		return nil, errAt("tcp", 0, ErrMalformed, "data offset "+strconv.Itoa(int(t.DataOffset()))+" < 5")
	}
	if len(b) < t.HeaderLen() {
		return t, errAt("tcp", 0, ErrTruncated, "options cut off at "+strconv.Itoa(len(b))+" of "+strconv.Itoa(t.HeaderLen())+" bytes")
	}
	return t, nil
}

// SrcPort returns Source Port (offset 0, 2 bytes, network→host).
func (t TCP) SrcPort() uint16 { return ntohs(t[tcpSrcPort:]) }

// DstPort returns Destination Port (offset 2, 2 bytes, network→host).
func (t TCP) DstPort() uint16 { return ntohs(t[tcpDstPort:]) }

// Seq returns Sequence Number (offset 4, 4 bytes, network→host).
func (t TCP) Seq() uint32 { return ntohl(t[tcpSeq:]) }

// Ack returns Acknowledgment Number (offset 8, 4 bytes, network→host).
// Meaningful only when the ACK flag is set.
func (t TCP) Ack() uint32 { return ntohl(t[tcpAck:]) }

// DataOffset returns the Data Offset field (offset 12, high 4 bits) in 32-bit words.
func (t TCP) DataOffset() uint8 { return t[tcpDataOff] >> 4 }

// HeaderLen returns the header length in bytes: Data Offset × 4.
func (t TCP) HeaderLen() int { return int(t.DataOffset()) * 4 }

// AE reports the AE bit (offset 12, lowest bit; Accurate ECN, formerly NS).
func (t TCP) AE() bool { return t[tcpDataOff]&0x01 != 0 }

// Reserved returns the 3 reserved bits (offset 12, bits 1–3), which a
// correct sender leaves zero.
func (t TCP) Reserved() uint8 { return (t[tcpDataOff] >> 1) & 0x07 }

// Flags returns the flags byte (offset 13): CWR ECE URG ACK PSH RST SYN FIN.
func (t TCP) Flags() uint8 { return t[tcpFlags] }

// Has reports whether all bits of f are set in the flags byte.
func (t TCP) Has(f uint8) bool { return t[tcpFlags]&f == f }

// Window returns Window (offset 14, 2 bytes, network→host), unscaled.
func (t TCP) Window() uint16 { return ntohs(t[tcpWindow:]) }

// Checksum returns Checksum (offset 16, 2 bytes, network→host).
func (t TCP) Checksum() uint16 { return ntohs(t[tcpChecksum:]) }

// Urgent returns Urgent Pointer (offset 18, 2 bytes, network→host).
func (t TCP) Urgent() uint16 { return ntohs(t[tcpUrgent:]) }

// Options returns the option bytes that were captured (offset 20 up to HeaderLen).
func (t TCP) Options() []byte {
	end := t.HeaderLen()
	if end > len(t) {
		end = len(t)
	}
	return t[tcpMinLen:end]
}
