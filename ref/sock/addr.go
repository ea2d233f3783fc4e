package sock

import (
	"fmt"
	"net/netip"

	sys "github.com/tcpscope/tcpscope/internal/sysabi"
)

// Family is an address family: AF_INET or AF_INET6.
type Family int

// The two families a TCP socket can have here.
const (
	IPv4 Family = sys.AF_INET
	IPv6 Family = sys.AF_INET6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "AF_INET"
	case IPv6:
		return "AF_INET6"
	}
	return fmt.Sprintf("family %d", int(f))
}

// FamilyOf picks the family a socket needs to reach address a. An IPv4
// address written in IPv6 form (::ffff:127.0.0.1) counts as IPv4.
func FamilyOf(a netip.Addr) Family {
	if a.Unmap().Is4() {
		return IPv4
	}
	return IPv6
}
