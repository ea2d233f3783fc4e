package defrag

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// FuzzIPv4 feeds a sequence of IPv4 fragments built from the input (each
// chunk: 1 byte id, 2 bytes flags+offset, 1 byte length, 1 byte time step,
// then that many payload bytes) plus raw bytes as a header: no panic, a
// completed datagram is never larger than the IPv6 limit, and the pending
// table stays within its caps.
func FuzzIPv4(f *testing.F) {
	f.Add([]byte{1, 0x20, 0x00, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0x00, 0x01, 4, 0, 9, 9, 9, 9})
	f.Add([]byte{2, 0x00, 0x01, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0x20, 0x00, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{3, 0x3f, 0xff, 8, 0xff, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := New()
		now := time.Unix(1700000000, 0)
		for len(data) >= 5 {
			id, ff, n, step := data[0], binary.BigEndian.Uint16(data[1:]), int(data[3]), data[4]
			data = data[5:]
			n = min(n, len(data))
			payload := data[:n]
			data = data[n:]
			now = now.Add(time.Duration(step) * time.Second)
			h := make([]byte, 20, 20+len(payload))
			h[0], h[8], h[9] = 0x45, 64, 6
			binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
			h[5] = id % 4
			binary.BigEndian.PutUint16(h[6:], ff)
			copy(h[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
			out, err := r.IPv4(append(h, payload...), now)
			if err == nil && out != nil && len(out) > 0xFFFF {
				t.Fatalf("datagram of %d bytes", len(out))
			}
			if len(r.pending) > maxPending {
				t.Fatalf("%d datagrams pending", len(r.pending))
			}
		}
	})
}

// FuzzIPv6 gives arbitrary bytes as an IPv6 packet with its fragment header
// at an arbitrary offset: no panic.
func FuzzIPv6(f *testing.F) {
	pkt := make([]byte, 40+8+8)
	pkt[0], pkt[6] = 0x60, 44
	binary.BigEndian.PutUint16(pkt[4:], 16)
	pkt[40] = 6
	binary.BigEndian.PutUint16(pkt[42:], 1) // offset 0, more fragments
	f.Add(pkt, 40)
	f.Add(pkt[:44], 40)
	f.Fuzz(func(t *testing.T, b []byte, off int) {
		r := New()
		src, dst := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
		now := time.Unix(1700000000, 0)
		for i := 0; i < 3; i++ {
			r.IPv6(b, off, src, dst, now)
		}
	})
}
