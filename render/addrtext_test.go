package render

import (
	"math/rand"
	"net/netip"
	"testing"
)

// TestAddrTextsSameAsAppendTo: the remembered text is always netip's own,
// for a stream of endpoints with more distinct ones than the cache holds,
// in every family and form (v4, v6, v4-mapped v6, zones), and for
// endpoints that differ only in their port or zone.
func TestAddrTextsSameAsAppendTo(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"),
		netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("::1"),
		netip.MustParseAddr("::ffff:127.0.0.1"),
		netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("fe80::1%eth1"),
		netip.MustParseAddr("2001:db8::dead:beef"),
		netip.MustParseAddr("fe80::1%a-zone-name-longer-than-the-sixty-four-bytes-an-endpoint-text-may-hold"),
		{}, // invalid: netip writes nothing
	}
	ports := []uint16{0, 7, 80, 8080, 35589, 65535}
	rng := rand.New(rand.NewSource(1))
	var eps, ips addrTexts
	for n := range 20000 {
		a := addrs[rng.Intn(len(addrs))]
		p := ports[rng.Intn(len(ports))]
		if n%3 == 0 { // a busy connection: its two ends again and again
			a, p = addrs[n%2], ports[1+n%2]
		}
		if n%5 == 0 { // a flood: a client port of its own each time
			p = uint16(rng.Intn(65536))
		}
		ap := netip.AddrPortFrom(a, p)
		if got, want := eps.appendAddrPort([]byte("x "), ap), ap.AppendTo([]byte("x ")); string(got) != string(want) {
			t.Fatalf("step %d: appendAddrPort(%v) = %q, want %q", n, ap, got, want)
		}
		if got, want := ips.appendAddr([]byte("x "), a), a.AppendTo([]byte("x ")); string(got) != string(want) {
			t.Fatalf("step %d: appendAddr(%v) = %q, want %q", n, a, got, want)
		}
	}
}

func BenchmarkAppendAddrPort(b *testing.B) {
	eps := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:35589"), netip.MustParseAddrPort("127.0.0.1:35364"),
		netip.MustParseAddrPort("127.0.0.1:35589"), netip.MustParseAddrPort("127.0.0.1:35380"),
	}
	buf := make([]byte, 0, 256)
	b.Run("netip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for _, ap := range eps {
				buf = ap.AppendTo(buf)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		var c addrTexts
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for _, ap := range eps {
				buf = c.appendAddrPort(buf, ap)
			}
		}
	})
}
