//go:build unix

package sock

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sockaddr builds the C sockaddr for ap. The port is given in host order:
// x/sys/unix performs the htons when it copies it into the kernel's struct,
// which is exactly what DescribeSockaddr spells out.
func sockaddr(ap netip.AddrPort) (unix.Sockaddr, error) {
	a := ap.Addr()
	if !a.IsValid() {
		return nil, fmt.Errorf("invalid address %v", ap)
	}
	if a.Unmap().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		ifi, err := net.InterfaceByName(z)
		if err != nil {
			return nil, fmt.Errorf("address %v: unknown interface %q", ap, z)
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return sa, nil
}

// addrPort turns the kernel's sockaddr back into an address and port.
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(a, uint16(sa.Port))
	}
	return netip.AddrPort{}
}
