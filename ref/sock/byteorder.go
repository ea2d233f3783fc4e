package sock

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// Endian is a CPU's byte order: how it lays out a multi-byte integer in
// memory. The wire (network byte order) is always big-endian.
type Endian int

// The two byte orders that matter.
const (
	LittleEndian Endian = iota // least significant byte first: x86-64, arm64 as usually run
	BigEndian                  // most significant byte first: network byte order, s390x
)

func (e Endian) String() string {
	if e == BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

// HostEndian finds this CPU's byte order at run time by storing the number 1
// in two bytes of native order and looking at which byte got it.
func HostEndian() Endian {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	if b[0] == 1 {
		return LittleEndian
	}
	return BigEndian
}

// hexBytes renders bytes as "7f 00 00 01".
func hexBytes(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, " ")
}

// hostBytes lays out a big-endian (wire) byte sequence the way a CPU with
// byte order host stores the same integer: reversed on little-endian.
func hostBytes(wire []byte, host Endian) []byte {
	out := make([]byte, len(wire))
	for i := range wire {
		if host == LittleEndian {
			out[i] = wire[len(wire)-1-i]
		} else {
			out[i] = wire[i]
		}
	}
	return out
}

// hostNote finishes a port or IPv4 address line with how the host keeps the
// number in memory, which is the whole reason htons and htonl exist.
func hostNote(wire []byte, host Endian, fn string) string {
	hb := hostBytes(wire, host)
	if host == BigEndian {
		return fmt.Sprintf("(host order on this big-endian CPU: %s, the same: %s changes nothing)", hexBytes(hb), fn)
	}
	return fmt.Sprintf("(host order on this little-endian CPU: %s)", hexBytes(hb))
}

// DescribePort explains how a port number is put in a sockaddr, for a CPU
// with byte order host:
//
//	sin_port = htons(7000) = 0x1b58 → bytes 1b 58 on the wire (host order on this little-endian CPU: 58 1b)
//
// field is the C field name, "sin_port" or "sin6_port".
func DescribePort(field string, port uint16, host Endian) string {
	wire := binary.BigEndian.AppendUint16(nil, port)
	return fmt.Sprintf("%s = htons(%d) = 0x%04x → bytes %s on the wire %s",
		field, port, port, hexBytes(wire), hostNote(wire, host, "htons"))
}

// DescribeAddr explains how an IP address is put in a sockaddr, for a CPU
// with byte order host. An IPv4 address is one 32-bit number and so has a
// byte order (htonl); an IPv6 address is an array of 16 bytes and has none:
//
//	sin_addr = 127.0.0.1 = htonl(0x7f000001) → bytes 7f 00 00 01 on the wire (host order on this little-endian CPU: 01 00 00 7f)
//	sin6_addr = ::1 → bytes 00 … 01 on the wire (16 single bytes: no byte order to convert)
func DescribeAddr(a netip.Addr, host Endian) string {
	a = a.Unmap()
	if a.Is4() {
		wire := a.As4()
		n := binary.BigEndian.Uint32(wire[:])
		return fmt.Sprintf("sin_addr = %s = htonl(0x%08x) → bytes %s on the wire %s",
			a, n, hexBytes(wire[:]), hostNote(wire[:], host, "htonl"))
	}
	wire := a.As16()
	return fmt.Sprintf("sin6_addr = %s → bytes %s on the wire (16 single bytes: no byte order to convert)",
		a.WithZone(""), hexBytes(wire[:]))
}

// DescribeSockaddr gives the lines that explain a whole sockaddr_in or
// sockaddr_in6 for an address and port, for a CPU with byte order host:
// the family (kept in host order, it never goes on the wire), the port, the
// address, and which byte order the host has.
func DescribeSockaddr(ap netip.AddrPort, host Endian) []string {
	a := ap.Addr().Unmap()
	family, portField := "sin_family = AF_INET", "sin_port"
	if !a.Is4() {
		family, portField = "sin6_family = AF_INET6", "sin6_port"
	}
	return []string{
		family + " (host order: the family never goes on the wire)",
		DescribePort(portField, ap.Port(), host),
		DescribeAddr(a, host),
		"network byte order is big-endian; this CPU is " + host.String(),
	}
}
