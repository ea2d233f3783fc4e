package decode

import (
	"math/rand/v2"
	"testing"
)

// TestPseudoSumIPv4: the pseudo-header sum of IPv4 addresses, added word by
// word, folds to what sum16 over the same bytes gives (0 and 0xFFFF are
// the same number), for random addresses, all ones and all zeros.
func TestPseudoSumIPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	addrs := [][]byte{{0, 0, 0, 0}, {255, 255, 255, 255}, {127, 0, 0, 1}}
	for range 200 {
		addrs = append(addrs, []byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
	}
	same := func(a, b uint16) bool { return a == b || a|b == 0xFFFF && a&b == 0 }
	for _, src := range addrs {
		for _, dst := range addrs {
			for _, n := range []int{0, 20, 1480, 65535} {
				want := foldSum(sum16(dst, sum16(src, 0)) + ProtoTCP + uint64(n))
				if got := foldSum(pseudoSum(src, dst, n)); !same(got, want) {
					t.Fatalf("%v -> %v, %d bytes: %#04x, sum16 gives %#04x", src, dst, n, got, want)
				}
			}
		}
	}
}

// TestIPv4ChecksumOK: the header checksum of a twenty-byte header, added
// word by word, gives sum16's verdict, for headers with their right
// checksum, with one bit of it wrong, and with the checksum field all ones
// or all zeros (where the two representations of zero meet).
func TestIPv4ChecksumOK(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	oks := 0
	for i := range 20000 {
		h := make(IPv4, 20)
		for j := range h {
			h[j] = byte(r.Uint32())
		}
		h[0] = 0x45
		h[10], h[11] = 0, 0
		sum := ^foldSum(sum16(h, 0))
		switch i % 4 {
		case 0:
			h[10], h[11] = byte(sum>>8), byte(sum)
		case 1:
			h[10], h[11] = byte(sum>>8), byte(sum)^1
		case 2:
			h[10], h[11] = 0xFF, 0xFF
		}
		want := foldSum(sum16(h, 0)) == 0xFFFF
		if got := h.ChecksumOK(); got != want {
			t.Fatalf("% x: ChecksumOK %v, sum16 says %v", []byte(h), got, want)
		}
		if want {
			oks++
		}
	}
	if oks < 5000 {
		t.Fatalf("only %d of 20000 headers verified: the test makes too few right checksums", oks)
	}
}
