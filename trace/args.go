package trace

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// This file is the pure half of the tracer: it turns the raw bytes the
// tracer copied out of a traced program's memory (a struct sockaddr, an
// array of struct iovec, a struct msghdr, an option value) into values, and
// names the constants the way strace and the lecture do. It makes no system
// calls, so it is tested and fuzzed on any machine. The layouts are those of
// 64-bit Linux (amd64 and arm64), in the CPU's own byte order, except the
// port and address inside a sockaddr, which are in network byte order: that
// difference is what htons() is about.

// Address families, socket types and flags as Linux numbers them (the same
// on amd64 and arm64). Written out so this file builds and is fuzzed on any
// OS.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10

	sockStream   = 1
	sockDgram    = 2
	sockNonblock = 0o4000
	sockCloexec  = 0o2000000
)

// Sockaddr is a decoded struct sockaddr.
type Sockaddr struct {
	Family int            // AF_INET, AF_INET6, AF_UNIX, …
	Addr   netip.AddrPort // for AF_INET and AF_INET6
	Path   string         // for AF_UNIX
}

func (s Sockaddr) String() string {
	switch s.Family {
	case afInet, afInet6:
		return s.Addr.String()
	case afUnix:
		return strconv.Quote(s.Path)
	}
	return FamilyName(s.Family)
}

var errShort = errors.New("sockaddr too short")

// ParseSockaddr decodes the first n bytes of a struct sockaddr. sa_family
// is in host byte order; sin_port and sin_addr (sin6_port, sin6_addr) are in
// network byte order.
//
//	struct sockaddr_in  { sa_family_t 0-1; in_port_t 2-3; struct in_addr 4-7; zero 8-15 }
//	struct sockaddr_in6 { sa_family_t 0-1; in_port_t 2-3; flowinfo 4-7; in6_addr 8-23; scope_id 24-27 }
func ParseSockaddr(b []byte) (Sockaddr, error) {
	if len(b) < 2 {
		return Sockaddr{}, errShort
	}
	fam := int(binary.NativeEndian.Uint16(b[0:2]))
	s := Sockaddr{Family: fam}
	switch fam {
	case afInet:
		if len(b) < 8 {
			return s, errShort
		}
		port := binary.BigEndian.Uint16(b[2:4]) // ntohs
		s.Addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case afInet6:
		if len(b) < 24 {
			return s, errShort
		}
		port := binary.BigEndian.Uint16(b[2:4]) // ntohs
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if len(b) >= 28 {
			if scope := binary.NativeEndian.Uint32(b[24:28]); scope != 0 && a.IsLinkLocalUnicast() {
				a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
			}
		}
		s.Addr = netip.AddrPortFrom(a, port)
	case afUnix:
		p := b[2:]
		if i := strings.IndexByte(string(p), 0); i >= 0 {
			p = p[:i]
		}
		s.Path = string(p)
	}
	return s, nil
}

// EncodeSockaddr is the inverse of ParseSockaddr for AF_INET and AF_INET6:
// the bytes a C program would pass to connect(2). Tests use it.
func EncodeSockaddr(ap netip.AddrPort) []byte {
	a := ap.Addr()
	if a.Is4() {
		b := make([]byte, 16)
		binary.NativeEndian.PutUint16(b[0:2], afInet)
		binary.BigEndian.PutUint16(b[2:4], ap.Port()) // htons
		v := a.As4()
		copy(b[4:8], v[:])
		return b
	}
	b := make([]byte, 28)
	binary.NativeEndian.PutUint16(b[0:2], afInet6)
	binary.BigEndian.PutUint16(b[2:4], ap.Port()) // htons
	v := a.As16()
	copy(b[8:24], v[:])
	return b
}

// Iovec is one struct iovec { void *iov_base; size_t iov_len; }.
type Iovec struct {
	Base uint64
	Len  uint64
}

// iovecSize is sizeof(struct iovec) on a 64-bit CPU.
const iovecSize = 16

// ParseIovecs decodes an array of struct iovec; a trailing partial entry is
// ignored.
func ParseIovecs(b []byte) []Iovec {
	out := make([]Iovec, 0, len(b)/iovecSize)
	for len(b) >= iovecSize {
		out = append(out, Iovec{Base: binary.NativeEndian.Uint64(b[0:8]), Len: binary.NativeEndian.Uint64(b[8:16])})
		b = b[iovecSize:]
	}
	return out
}

// Msghdr is the part of struct msghdr the tracer uses.
type Msghdr struct {
	Name    uint64 // void *msg_name
	NameLen uint32 // socklen_t msg_namelen
	Iov     uint64 // struct iovec *msg_iov
	IovLen  uint64 // size_t msg_iovlen
}

// msghdrSize is sizeof(struct msghdr) on 64-bit Linux:
//
//	msg_name 0-7, msg_namelen 8-11 (+4 padding), msg_iov 16-23, msg_iovlen 24-31,
//	msg_control 32-39, msg_controllen 40-47, msg_flags 48-51 (+4 padding)
const msghdrSize = 56

// ParseMsghdr decodes a struct msghdr.
func ParseMsghdr(b []byte) (Msghdr, error) {
	if len(b) < 32 {
		return Msghdr{}, errors.New("msghdr too short")
	}
	return Msghdr{
		Name:    binary.NativeEndian.Uint64(b[0:8]),
		NameLen: binary.NativeEndian.Uint32(b[8:12]),
		Iov:     binary.NativeEndian.Uint64(b[16:24]),
		IovLen:  binary.NativeEndian.Uint64(b[24:32]),
	}, nil
}

// FamilyName names an address family as in C (sock.Family covers the two
// IP families; this one also names those a program may use beside them).
func FamilyName(f int) string {
	switch f {
	case afUnix:
		return "AF_UNIX"
	case afInet:
		return "AF_INET"
	case afInet6:
		return "AF_INET6"
	case 16:
		return "AF_NETLINK"
	}
	return "AF_" + strconv.Itoa(f)
}
