package render

import "net/netip"

// flowTexts remembers, per flow, how a line names the flow's two ends:
// "127.0.0.1:33893 → 127.0.0.1:44702  " in a text line, `,"stream":16,
// "src":"127.0.0.1","dst":"127.0.0.1","sport":33893,"dport":44702` in a
// JSON one. Every segment of a connection names the same ends, so a line
// copies the text its flow's last line wrote instead of looking up two
// addresses and formatting two ports (and, in JSON, the stream number):
// about 2 % of replay's instructions.
//
// A flow picks its slot by its ports; a hit needs the same two endpoints
// and stream, so flows sharing a slot only cost misses, never a wrong
// text. The table is an array, so a renderer copied by value shares
// nothing (as tsTexts).
type flowTexts struct {
	slot [flowSlots]flowText
}

// flowSlots: 64 slots of 152 bytes, 9.5 KiB.
const flowSlots = 64

type flowText struct {
	src, dst netip.AddrPort
	stream   int
	n        uint8 // length of text; 0: nothing kept
	text     [flowTextMax]byte
}

// flowTextMax holds both ends of IPv4 and most IPv6 flows; a longer text
// (long IPv6 addresses, zones) is written every time.
const flowTextMax = 96

// flowSlot is the slot of the flow from port sport to port dport in a
// per-flow table of flowSlots entries (this one and tsTexts).
func flowSlot(sport, dport uint16) uint {
	return (uint(sport)*31 + uint(dport)) & (flowSlots - 1)
}

// lookup returns src→dst's slot and whether it holds that flow's text.
func (c *flowTexts) lookup(src, dst netip.AddrPort, stream int) (*flowText, bool) {
	e := &c.slot[flowSlot(src.Port(), dst.Port())]
	return e, e.n != 0 && e.stream == stream && e.src == src && e.dst == dst
}

// keep remembers text as the flow's (nothing if it is too long).
func (e *flowText) keep(src, dst netip.AddrPort, stream int, text []byte) {
	if len(text) > flowTextMax {
		e.n = 0
		return
	}
	e.src, e.dst, e.stream = src, dst, stream
	e.n = uint8(copy(e.text[:], text))
}
