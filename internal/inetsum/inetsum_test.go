package inetsum

import (
	"math/rand/v2"
	"testing"
)

// naive is RFC 1071 §4.1's loop: 16-bit big-endian words, an odd last
// byte padded with zero, folded.
func naive(b []byte, s uint64) uint16 {
	for len(b) >= 2 {
		s += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return Fold(s)
}

// TestAddSameAsRFC1071: every length up to a jumbo frame's (so each
// round size and every remainder after it is taken), from every
// alignment, of random bytes and of bytes that carry on every addition
// (all ones), with a starting sum, folds to what the plain word loop
// gives. Fold(Add) is only congruent modulo 0xFFFF to the word sum, so
// both are folded, and 0x0000 and 0xFFFF are the same number.
func TestAddSameAsRFC1071(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 9100)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	ones := make([]byte, 9100)
	for i := range ones {
		ones[i] = 0xFF
	}
	same := func(a, b uint16) bool { return a == b || a|b == 0xFFFF && a&b == 0 }
	for _, data := range [][]byte{buf, ones} {
		for n := 0; n <= 9000; n += 1 + n/300 {
			for off := 0; off < 8; off++ {
				b := data[off : off+n]
				for _, s0 := range []uint64{0, 0x1234, 0xFFFF_FFFF} {
					if got, want := Fold(Add(b, s0)), naive(b, s0); !same(got, want) {
						t.Fatalf("%d bytes at offset %d from %#x: %#04x, the word loop gives %#04x", n, off, s0, got, want)
					}
				}
			}
		}
	}
}

func FuzzAdd(f *testing.F) {
	f.Add([]byte{0x45, 0x00, 0x00, 0x3c}, uint64(0))
	f.Add(make([]byte, 300), uint64(0xFFFF))
	f.Fuzz(func(t *testing.T, b []byte, s uint64) {
		s >>= 16 // room for the words of a 1 TB buffer without overflow
		got, want := Fold(Add(b, s)), naive(b, s)
		if got != want && !(got|want == 0xFFFF && got&want == 0) {
			t.Fatalf("% x from %#x: %#04x, the word loop gives %#04x", b, s, got, want)
		}
	})
}

// BenchmarkAdd sums a full-sized Ethernet payload.
func BenchmarkAdd(b *testing.B) {
	buf := make([]byte, 1448)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var s uint64
	for b.Loop() {
		s = Add(buf, s) & 0xFFFF_FFFF
	}
}

// TestSumWordsSameAsGo: sumWords (in assembly on amd64) gives sumWordsGo's sum,
// exactly, for every number of words up to 70 blocks' worth, of random bytes, of all
// ones (a carry out of every addition) and of bytes that take the sum to
// all ones and then one past it.
func TestSumWordsSameAsGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 70*128)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	ones := make([]byte, 70*128)
	for i := range ones {
		ones[i] = 0xFF
	}
	// Words of all ones but one that is 1: sums that reach all ones with
	// a carry pending.
	edge := make([]byte, 70*128)
	for i := range edge {
		edge[i] = 0xFF
	}
	for i := 0; i < len(edge); i += 8 * 17 {
		edge[i] = 0xFE
	}
	for _, data := range [][]byte{random, ones, edge} {
		for n := 0; n <= 70*16; n++ {
			b := data[:n*8]
			if got, want := sumWords(b), sumWordsGo(b); got != want {
				t.Fatalf("%d words: sumWords %#x, sumWordsGo %#x", n, got, want)
			}
		}
	}
}
