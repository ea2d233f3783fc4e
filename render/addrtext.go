package render

import (
	"net/netip"

	"github.com/tcpscope/tcpscope/internal/decimal"
)

// addrTexts remembers how the last few addresses were written, so that
// lines, which name the same few hosts on every segment, copy their text
// instead of formatting it again: netip's AppendTo writes each byte of
// the address in decimal, which was 4 % of replay's CPU on make bench's
// bulk.pcap (two endpoints a line). A hit is a few comparisons and a copy.
// The port is written each time (decimal.AppendUint): keyed by endpoint,
// the cache missed on every line of make bench's big.pcap, whose 20 000
// short connections each have a client port of their own, and a miss
// compared all eight slots before formatting. The zero value is ready,
// and the texts are held in arrays, not slices, so that a renderer copied
// by value shares nothing with the original.
type addrTexts struct {
	key  [addrSlots]netip.Addr
	text [addrSlots][maxAddrText]byte
	len  [addrSlots]uint8
	n    int // slots in use
	next int // the slot the next miss takes (round robin)
}

// maxAddrText holds any address's text but one with a long IPv6 zone
// name, which is then formatted every time.
const maxAddrText = 64

// addrSlots is enough for the hosts of a capture of a few busy hosts,
// few enough that a miss costs little more than formatting.
const addrSlots = 8

// appendAddrPort appends ap as ap.AppendTo does ("10.0.0.1:80",
// "[::1]:80"): the address's text as it is written before a port (IPv6 in
// brackets) is remembered, the port is formatted.
func (c *addrTexts) appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if !a.IsValid() {
		return ap.AppendTo(b) // writes nothing: no port without an address
	}
	if t, ok := c.lookup(a); ok {
		b = append(b, t...)
	} else {
		at := len(b)
		b = netip.AddrPortFrom(a, 0).AppendTo(b)
		b = b[:len(b)-len(":0")]
		c.remember(a, b[at:])
	}
	return decimal.AppendUint(append(b, ':'), uint64(ap.Port()))
}

// appendAddr appends a as a.AppendTo does. A cache is used for addresses
// alone or before ports, not both (IPv6 texts differ by the brackets).
func (c *addrTexts) appendAddr(b []byte, a netip.Addr) []byte {
	if t, ok := c.lookup(a); ok {
		return append(b, t...)
	}
	at := len(b)
	b = a.AppendTo(b)
	c.remember(a, b[at:])
	return b
}

// lookup returns the text remembered for a.
func (c *addrTexts) lookup(a netip.Addr) ([]byte, bool) {
	for i := range c.n {
		if c.key[i] == a {
			return c.text[i][:c.len[i]], true
		}
	}
	return nil, false
}

func (c *addrTexts) remember(a netip.Addr, text []byte) {
	if len(text) > maxAddrText {
		return
	}
	i := c.next
	c.next = (i + 1) % addrSlots
	c.n = max(c.n, i+1)
	c.key[i] = a
	c.len[i] = uint8(copy(c.text[i][:], text))
}
