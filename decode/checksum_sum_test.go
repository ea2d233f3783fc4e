package decode

import (
	"math/rand"
	"testing"
)

// TestSum16MatchesWordSum: the fast sum16 folds to the same 16-bit
// one's-complement sum as adding big-endian words one by one, for every
// length and for the hard cases (all zero, all ones, carries everywhere).
func TestSum16MatchesWordSum(t *testing.T) {
	ref := func(b []byte, s uint64) uint64 {
		for len(b) >= 2 {
			s += uint64(b[0])<<8 | uint64(b[1])
			b = b[2:]
		}
		if len(b) == 1 {
			s += uint64(b[0]) << 8
		}
		return s
	}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 3000; n++ {
		size := n % 1600
		b := make([]byte, size)
		switch n % 4 {
		case 0:
			rng.Read(b)
		case 1:
			for i := range b {
				b[i] = 0xFF
			}
		case 2: // all zero
		case 3:
			for i := range b {
				b[i] = byte(rng.Intn(2) * 0xFF)
			}
		}
		s := uint64(rng.Intn(1 << 20))
		if n%7 == 0 {
			s = 0
		}
		if got, want := foldSum(sum16(b, s)), foldSum(ref(b, s)); got != want {
			t.Fatalf("len %d case %d start %d: fold %#04x, want %#04x", size, n%4, s, got, want)
		}
	}
}

func BenchmarkSum16(b *testing.B) {
	buf := make([]byte, 1500)
	rand.New(rand.NewSource(1)).Read(buf)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sum16(buf, 0)
	}
}
