package render

import "net/netip"

// addrTexts remembers how the last few endpoints were written, so that the
// lines of a connection, which name the same two endpoints on every
// segment, copy their text instead of formatting it again: netip's
// AppendTo writes each byte of the address and the port in decimal, which
// was 4 % of replay's CPU on make bench's bulk.pcap (two endpoints a
// line). A hit is a few comparisons and a copy. The zero value is ready,
// and the texts are held in arrays, not slices, so that a renderer copied
// by value shares nothing with the original.
type addrTexts struct {
	key  [addrSlots]netip.AddrPort
	text [addrSlots][maxAddrText]byte
	len  [addrSlots]uint8
	n    int // slots in use
	next int // the slot the next miss takes (round robin)
}

// maxAddrText holds any endpoint's text but one with a long IPv6 zone
// name, which is then formatted every time.
const maxAddrText = 64

// addrSlots is enough for both ends of four connections whose segments
// interleave (a server and its four busy clients take five), few enough
// that a miss costs little more than formatting.
const addrSlots = 8

// appendAddrPort appends ap as ap.AppendTo does ("10.0.0.1:80",
// "[::1]:80").
func (c *addrTexts) appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	if t, ok := c.lookup(ap); ok {
		return append(b, t...)
	}
	at := len(b)
	b = ap.AppendTo(b)
	c.remember(ap, b[at:])
	return b
}

// appendAddr appends a as a.AppendTo does (no port). A cache is used for
// addresses alone or for endpoints, not both.
func (c *addrTexts) appendAddr(b []byte, a netip.Addr) []byte {
	ap := netip.AddrPortFrom(a, 0)
	if t, ok := c.lookup(ap); ok {
		return append(b, t...)
	}
	at := len(b)
	b = a.AppendTo(b)
	c.remember(ap, b[at:])
	return b
}

// lookup returns the text remembered for ap.
func (c *addrTexts) lookup(ap netip.AddrPort) ([]byte, bool) {
	for i := range c.n {
		if c.key[i] == ap {
			return c.text[i][:c.len[i]], true
		}
	}
	return nil, false
}

func (c *addrTexts) remember(ap netip.AddrPort, text []byte) {
	if len(text) > maxAddrText {
		return
	}
	i := c.next
	c.next = (i + 1) % addrSlots
	c.n = max(c.n, i+1)
	c.key[i] = ap
	c.len[i] = uint8(copy(c.text[i][:], text))
}
