// Names and meanings of field values (EtherTypes, protocols, ports,
// flags) for the explanation's last column.

package explain

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
)

// ---- names ----

func cells(format string, v uint64) []string {
	long := fmt.Sprintf(format, v)
	short := strconv.FormatUint(v, 10)
	if long == short {
		return []string{long}
	}
	return []string{long, short}
}

func mac(b []byte) string { return net.HardwareAddr(b).String() }

func etherTypeName(t uint64) string {
	switch t {
	case decode.EtherTypeIPv4:
		return "0x0800 = IPv4"
	case decode.EtherTypeIPv6:
		return "0x86dd = IPv6"
	case decode.EtherTypeVLAN:
		return "0x8100 = an 802.1Q VLAN tag follows"
	case decode.EtherTypeQinQ:
		return "0x88a8 = an 802.1ad (Q-in-Q) service tag follows"
	case decode.EtherTypeQinQv1:
		return "0x9100 = a pre-standard Q-in-Q tag follows"
	case decode.EtherTypePPPoE:
		return "0x8864 = PPPoE session"
	case 0x0806:
		return "0x0806 = ARP"
	}
	return fmt.Sprintf("0x%04x", t)
}

func sllPacketType(v uint64) string {
	switch v {
	case 0:
		return "0 = addressed to this host"
	case 1:
		return "1 = broadcast"
	case 2:
		return "2 = multicast"
	case 3:
		return "3 = to another host (promiscuous)"
	case 4:
		return "4 = sent by this host"
	}
	return strconv.FormatUint(v, 10)
}

func arphrdName(v uint64) string {
	switch v {
	case 1:
		return "1 = Ethernet"
	case 772:
		return "772 = loopback"
	case 65534:
		return "65534 = no link header (tunnel)"
	}
	return strconv.FormatUint(v, 10)
}

func afName(v uint64) string {
	switch {
	case v == 2:
		return "2 = AF_INET (IPv4)"
	case v == 10 || v == 24 || v == 28 || v == 30:
		return strconv.FormatUint(v, 10) + " = AF_INET6 (IPv6; the number differs between systems)"
	}
	return strconv.FormatUint(v, 10)
}

func shortProto(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPv6"
	case 0:
		return "HBH"
	case 44:
		return "Frag"
	case 43:
		return "Rout"
	case 60:
		return "Dest"
	}
	return ""
}

func shortStatus(c decode.Checksum) string {
	switch c {
	case decode.ChecksumOK:
		return "ok"
	case decode.ChecksumBad:
		return "bad"
	}
	return "unverified"
}

func ipv4Flags(v uint64) string {
	var s []string
	if v&4 != 0 {
		s = append(s, "reserved bit set (evil bit, RFC 3514)")
	}
	if v&2 != 0 {
		s = append(s, "DF: don't fragment")
	}
	if v&1 != 0 {
		s = append(s, "MF: more fragments follow")
	}
	if len(s) == 0 {
		return fmt.Sprintf("%03b: may be fragmented, last (or only) fragment", v)
	}
	return fmt.Sprintf("%03b: %s", v, strings.Join(s, ", "))
}

// dscpECN splits a TOS / Traffic Class byte into DSCP (6 bits) and ECN (2).
func dscpECN(v uint8) string {
	ecn := [4]string{"Not-ECT", "ECT(1)", "ECT(0)", "CE: congestion experienced"}
	return fmt.Sprintf("DSCP %d, ECN %d (%s)", v>>2, v&3, ecn[v&3])
}

var wellKnown = map[uint64]string{20: "FTP data", 21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 80: "HTTP",
	110: "POP3", 143: "IMAP", 179: "BGP", 389: "LDAP", 443: "HTTPS", 445: "SMB", 1723: "PPTP", 3306: "MySQL", 5432: "PostgreSQL",
	6379: "Redis", 8080: "HTTP alternate"}

// portMeaning says whose port a port field holds. role is the role of the
// end that owns it, "client" or "server", when the connection's handshake
// was seen (the SYN's sender is the client, so the port the SYN went to is
// the server's); without it, the port number is all there is to go by.
func portMeaning(f Field, role string) string {
	if f.Missing {
		return ""
	}
	v := val(f)
	name, known := wellKnown[v]
	switch role {
	case "server":
		if known {
			return "the server's port (the SYN went to it): well-known port of " + name
		}
		return "the server's port (the SYN went to it)"
	case "client":
		if v >= 32768 {
			return "the client's port (it sent the SYN): an ephemeral port the kernel chose"
		}
		return "the client's port (it sent the SYN)"
	}
	if known {
		return "well-known port of " + name
	}
	if v >= 32768 {
		return "probably an ephemeral (client) port"
	}
	return ""
}

// other is the role of the other end.
func other(role string) string {
	switch role {
	case "client":
		return "server"
	case "server":
		return "client"
	}
	return ""
}

// cutBySnaplen reports whether the option error msg (from decode) is only
// the capture ending inside the option, rather than a malformed option.
func cutBySnaplen(t decode.TCP, msg string) bool {
	return len(t) < t.HeaderLen() && (strings.Contains(msg, "runs past") || strings.Contains(msg, "length byte missing"))
}

// nBytes writes "1 byte" or "N bytes".
func nBytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
