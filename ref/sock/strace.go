package sock

import (
	"net/netip"
	"strconv"

	sys "github.com/tcpscope/tcpscope/internal/sysabi"
)

// This file writes arguments in strace's notation (strace 6, its defaults),
// the notation a lecture's slides and a student's own `strace -e
// trace=network` show. Kept by hand: strace is a C program, and no Go
// library prints its format.

// AppendQuoted appends p as strace prints a buffer: in double quotes, C
// escapes for \t \n \v \f \r, \" and \\, other bytes outside printable
// ASCII in octal (three digits when an octal digit follows, else as few as
// needed: "\0", "\33", "\377"), and, past strsize bytes, the first strsize
// then "...": `"hello, world\n"`, `"GET / HTTP/1.1\r\nHost: 127.0.0.1"...`.
func AppendQuoted(b []byte, p []byte, strsize int) []byte {
	cut := len(p) > strsize
	if cut {
		p = p[:strsize]
	}
	b = append(b, '"')
	for i, c := range p {
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\v':
			b = append(b, `\v`...)
		case '\f':
			b = append(b, `\f`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			if c >= ' ' && c < 0x7f {
				b = append(b, c)
				continue
			}
			b = append(b, '\\')
			if i+1 < len(p) && p[i+1] >= '0' && p[i+1] <= '7' {
				b = append(b, '0'+c>>6, '0'+c>>3&7)
			} else if c>>3 != 0 {
				if c>>6 != 0 {
					b = append(b, '0'+c>>6)
				}
				b = append(b, '0'+c>>3&7)
			}
			b = append(b, '0'+c&7)
		}
	}
	b = append(b, '"')
	if cut {
		b = append(b, "..."...)
	}
	return b
}

// AppendSockaddr appends a sockaddr_in or sockaddr_in6 as strace shows it,
// with the conversions a program makes to fill it in visible:
//
//	{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}
//	{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}
//
// (strace names the family field sa_family, the field common to every
// sockaddr, where C code fills in sin_family.)
func AppendSockaddr(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if a.Unmap().Is4() {
		b = append(b, "{sa_family=AF_INET, sin_port=htons("...)
		b = strconv.AppendUint(b, uint64(ap.Port()), 10)
		b = append(b, `), sin_addr=inet_addr("`...)
		b = a.Unmap().AppendTo(b)
		return append(b, `")}`...)
	}
	b = append(b, "{sa_family=AF_INET6, sin6_port=htons("...)
	b = strconv.AppendUint(b, uint64(ap.Port()), 10)
	b = append(b, `), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "`...)
	b = a.WithZone("").AppendTo(b)
	b = append(b, `", &sin6_addr), sin6_scope_id=`...)
	if z := a.Zone(); z != "" {
		b = append(b, `if_nametoindex("`...)
		b = append(b, z...)
		return append(b, `")}`...)
	}
	return append(b, "0}"...)
}

// SockaddrLen is the length argument that goes with ap's sockaddr:
// sizeof(struct sockaddr_in) = 16, sizeof(struct sockaddr_in6) = 28.
func SockaddrLen(ap netip.AddrPort) int {
	if ap.Addr().Unmap().Is4() {
		return sys.SizeofSockaddrInet4
	}
	return sys.SizeofSockaddrInet6
}

// TypeName names a socket type with the flags a program may or into it, as
// strace: "SOCK_STREAM", "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK".
func TypeName(t int) string {
	var s string
	switch base := t &^ (sockCloexec | sockNonblock); base {
	case sys.SOCK_STREAM:
		s = "SOCK_STREAM"
	case sys.SOCK_DGRAM:
		s = "SOCK_DGRAM"
	default:
		s = strconv.Itoa(base)
	}
	if sockCloexec != 0 && t&sockCloexec != 0 {
		s += "|SOCK_CLOEXEC"
	}
	if sockNonblock != 0 && t&sockNonblock != 0 {
		s += "|SOCK_NONBLOCK"
	}
	return s
}

// ProtocolName names socket's protocol argument: "IPPROTO_TCP", or
// "IPPROTO_IP" for 0 (the kernel's choice), as strace does.
func ProtocolName(p int) string {
	switch p {
	case 0:
		return "IPPROTO_IP"
	case sys.IPPROTO_TCP:
		return "IPPROTO_TCP"
	}
	return strconv.Itoa(p)
}

// LevelName names a socket option level: "SOL_SOCKET", "IPPROTO_TCP".
func LevelName(level int) string {
	switch level {
	case sys.SOL_SOCKET:
		return "SOL_SOCKET"
	case sys.IPPROTO_TCP:
		return "IPPROTO_TCP"
	case sys.IPPROTO_IP:
		return "IPPROTO_IP"
	case sys.IPPROTO_IPV6:
		return "IPPROTO_IPV6"
	}
	return strconv.Itoa(level)
}

// OptionName names a socket option of a level: "SO_REUSEADDR",
// "TCP_NODELAY"; a number it does not know as the number.
func OptionName(level, opt int) string {
	if level == sys.IPPROTO_TCP {
		if n, ok := tcpOptionNames[opt]; ok {
			return n
		}
	}
	if names, ok := optionNames[level]; ok {
		if n, ok := names[opt]; ok {
			return n
		}
	}
	return strconv.Itoa(opt)
}

var optionNames = map[int]map[int]string{
	sys.SOL_SOCKET: {
		sys.SO_REUSEADDR: "SO_REUSEADDR", sys.SO_REUSEPORT: "SO_REUSEPORT", sys.SO_KEEPALIVE: "SO_KEEPALIVE",
		sys.SO_LINGER: "SO_LINGER", sys.SO_RCVBUF: "SO_RCVBUF", sys.SO_SNDBUF: "SO_SNDBUF",
		sys.SO_ERROR: "SO_ERROR", sys.SO_RCVTIMEO: "SO_RCVTIMEO", sys.SO_SNDTIMEO: "SO_SNDTIMEO",
		sys.SO_BROADCAST: "SO_BROADCAST", sys.SO_TYPE: "SO_TYPE",
	},
	sys.IPPROTO_TCP: {
		sys.TCP_NODELAY: "TCP_NODELAY", sys.TCP_MAXSEG: "TCP_MAXSEG", sys.TCP_KEEPINTVL: "TCP_KEEPINTVL",
		sys.TCP_KEEPCNT: "TCP_KEEPCNT",
	},
	sys.IPPROTO_IPV6: {
		sys.IPV6_V6ONLY: "IPV6_V6ONLY",
	},
}
