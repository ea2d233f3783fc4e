package decimal

import (
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// values are the numbers every test formats: each power of ten and its
// neighbours (where the digit count changes), the ends of 16, 32 and 64
// bits, and random numbers of every bit length.
func values() []uint64 {
	vs := []uint64{0, 1, 9, 10, 11, 99, 100, 101, math.MaxUint16, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64, math.MaxUint64}
	for _, p := range pow10 {
		vs = append(vs, p-1, p, p+1)
	}
	rng := rand.New(rand.NewSource(1))
	for n := 1; n <= 64; n++ {
		for range 50 {
			vs = append(vs, rng.Uint64()>>(64-n))
		}
	}
	return vs
}

func TestAppendUintSameAsStrconv(t *testing.T) {
	for _, v := range values() {
		for _, prefix := range []string{"", "seq "} {
			// With room to spare and with none, so both ways of growing
			// the slice are taken.
			roomy := append(make([]byte, 0, 64), prefix...)
			tight := []byte(prefix)[:len(prefix):len(prefix)]
			want := strconv.AppendUint([]byte(prefix), v, 10)
			for _, b := range [][]byte{roomy, tight} {
				if got := AppendUint(b, v); string(got) != string(want) {
					t.Fatalf("AppendUint(%q, %d) = %q, want %q", prefix, v, got, want)
				}
			}
		}
		if got, want := Len(v), len(strconv.FormatUint(v, 10)); got != want {
			t.Fatalf("Len(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestAppendIntSameAsStrconv(t *testing.T) {
	vs := []int64{math.MinInt64, math.MinInt64 + 1, -1e18, -100, -10, -9, -1, math.MaxInt64}
	for _, v := range values() {
		vs = append(vs, int64(v), -int64(v>>1))
	}
	for _, v := range vs {
		if got, want := AppendInt([]byte("x"), v), strconv.AppendInt([]byte("x"), v, 10); string(got) != string(want) {
			t.Fatalf("AppendInt(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestAppendFixed(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		n    int
		want string
	}{
		{0, 6, "000000"},
		{7, 6, "000007"},
		{999999, 6, "999999"},
		{123456789, 9, "123456789"},
		{5, 9, "000000005"},
		{10, 2, "10"},
		{1234, 2, "34"}, // above 10^n: the low digits
		{42, 0, ""},
		{math.MaxUint64, 20, "18446744073709551615"},
		{1, 20, "00000000000000000001"},
	} {
		if got := string(AppendFixed([]byte("."), tc.v, tc.n)); got != "."+tc.want {
			t.Errorf("AppendFixed(%d, %d) = %q, want %q", tc.v, tc.n, got, "."+tc.want)
		}
	}
	for _, v := range values() {
		for n := Len(v); n <= 20; n++ {
			want := fmt.Sprintf("%0*d", n, v)
			if got := string(AppendFixed(nil, v, n)); got != want {
				t.Fatalf("AppendFixed(%d, %d) = %q, want %q", v, n, got, want)
			}
		}
	}
}

// TestAppendFraction9: strconv's fraction (the float's digits after the
// point, trailing zeros dropped) for values with every number of trailing
// zeros, at the ends, and at random.
func TestAppendFraction9(t *testing.T) {
	vs := []uint32{1, 9, 10, 100, 5e8, 1e8, 999999999, 123456789, 120000000, 100000001, 10000000}
	for _, v := range values() {
		vs = append(vs, uint32(v%1e9))
	}
	for z := uint32(1); z < 1e9; z *= 10 {
		for _, k := range []uint32{1, 3, 7, 9, 11, 99} {
			vs = append(vs, (k*z)%1e9)
		}
	}
	for _, v := range vs {
		if v == 0 {
			continue
		}
		want := strings.TrimRight(fmt.Sprintf("%09d", v), "0")
		if got := string(AppendFraction9([]byte("0."), v)); got != "0."+want {
			t.Fatalf("AppendFraction9(%d) = %q, want %q", v, got, "0."+want)
		}
	}
}

func FuzzAppendUint(f *testing.F) {
	for _, v := range values()[:40] {
		f.Add(v, int64(v))
	}
	f.Fuzz(func(t *testing.T, u uint64, i int64) {
		if got, want := AppendUint([]byte("a"), u), strconv.AppendUint([]byte("a"), u, 10); string(got) != string(want) {
			t.Fatalf("AppendUint(%d) = %q, want %q", u, got, want)
		}
		if got, want := AppendInt(nil, i), strconv.AppendInt(nil, i, 10); string(got) != string(want) {
			t.Fatalf("AppendInt(%d) = %q, want %q", i, got, want)
		}
	})
}

// benchValues are what a text line of a bulk transfer formats: a frame
// number, two ports, raw sequence and acknowledgement numbers, a length, a
// window and two TCP timestamps.
var benchValues = []uint64{1295036, 35364, 35589, 3462718234, 2910382741, 1448, 512, 95890711, 1835923753}

// BenchmarkAppendUint times a line's numbers with AppendUint and, as the
// yardstick, with strconv.AppendUint.
func BenchmarkAppendUint(b *testing.B) {
	for _, f := range []struct {
		name string
		fn   func([]byte, uint64) []byte
	}{
		{"decimal", AppendUint},
		{"strconv", func(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = buf[:0]
				for _, v := range benchValues {
					buf = f.fn(append(buf, ' '), v)
				}
			}
		})
	}
}
