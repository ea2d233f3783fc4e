//go:build !cgo && (linux || darwin)

package capture

import (
	"fmt"
	"net"
	"strings"
)

// Interfaces lists the interfaces as "name [addresses]".
func Interfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %v", err)
	}
	var out []string
	for _, i := range ifs {
		line := i.Name
		if addrs, err := i.Addrs(); err == nil && len(addrs) > 0 {
			var s []string
			for _, a := range addrs {
				s = append(s, strings.SplitN(a.String(), "/", 2)[0])
			}
			line += " [" + strings.Join(s, ", ") + "]"
		}
		out = append(out, line)
	}
	return out, nil
}
