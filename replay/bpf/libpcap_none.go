//go:build !cgo && !linux && !darwin

package bpf

// compile: there is no libpcap to load here (Windows has Npcap's wpcap.dll
// only where Npcap is installed, FreeBSD's purego needs cgo), so tcpdump
// expressions are refused with a line pointing to -Y display filters.
func compile(dlt, snap int, expr string) ([]Insn, error) { return nil, ErrNoLibpcap }
