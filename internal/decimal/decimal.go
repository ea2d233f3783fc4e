// Package decimal writes integers as decimal digits into a byte slice, the
// job of strconv.AppendUint and strconv.AppendInt, for the renderers' hot
// paths.
//
// Why by hand: every line replay prints holds eight to twenty integers
// (frame number, ports, sequence and acknowledgement numbers, window,
// length, timestamps, the time's fraction), and strconv formats each into
// a 24-byte array on its stack and then copies it onto the slice with a
// call to memmove. On bulk.pcap that was 12 % of replay's CPU. Here a
// value that fits in 32 bits is written eight digits at once, computed in
// the lanes of one 64-bit word (swar8) and stored with one write into room
// made past the slice's length, the leading zeros shifted out; a larger
// value goes two digits at a time from a table. The output is strconv's,
// byte for byte (TestAppendUintSameAsStrconv, FuzzAppendUint); every value
// below 10^8 was checked against strconv once, and BenchmarkAppendUint
// times a text line's nine numbers against strconv's.
package decimal

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// pairs holds "00" to "99": digit pair i at pairs[2i:2i+2].
const pairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// pow10[i] is 10^i, for i up to 19 (the largest that fits in 64 bits).
var pow10 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// Len returns the number of decimal digits of v (1 for 0).
//
// log10(2) ≈ 1233/4096, so (bits.Len64(v)*1233)>>12 is the digit count of
// the smallest number with v's bit length, minus one; one comparison with
// the next power of ten settles the rest.
func Len(v uint64) int {
	n := (bits.Len64(v) * 1233) >> 12
	if v >= pow10[n] {
		n++
	}
	return max(n, 1)
}

// AppendUint appends v in decimal, as strconv.AppendUint(b, v, 10) does.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v))
	case v < 100:
		return append(b, pairs[v*2], pairs[v*2+1])
	case v > math.MaxUint32:
		n := Len(v)
		l := len(b)
		b = append(b, make([]byte, n)...)
		put64(b[l:l+n], v)
		return b
	}
	w := uint32(v)
	b, l := room(b)
	if w >= 1e8 {
		// Nine or ten digits: the first one or two, then eight.
		top := w / 1e8
		w -= top * 1e8
		if top >= 10 {
			b[l], b[l+1] = pairs[top*2], pairs[top*2+1]
			l += 2
		} else {
			b[l] = byte('0' + top)
			l++
		}
		put8(b[l:l+8], swar8(w))
		return b[:l+8]
	}
	// The eight digits with their leading zeros shifted out. A zero digit
	// is a zero byte, and the first digit is the lowest byte, so the
	// word's trailing zero bits, rounded down to whole bytes, are the
	// leading zeros (the first nonzero digit, 1 to 9, has its lowest set
	// bit among its byte's low four): no digit count to work out first.
	d := digits8(w)
	z := uint(bits.TrailingZeros64(d)) &^ 7
	put8(b[l:l+8], (d|0x3030303030303030)>>z)
	return b[:l+8-int(z>>3)]
}

// room makes sure b has room for ten more bytes past its length, which
// it returns: an eight-digit store may write up to eight bytes beyond the
// digits it keeps, and nine or ten digits need that many.
func room(b []byte) ([]byte, int) {
	l := len(b)
	if cap(b)-l < 10 {
		b = append(b, make([]byte, 10)...)
	}
	return b[:l+10], l
}

// swar8 returns v's eight decimal digits (v < 10^8, with leading zeros)
// as ASCII in one 64-bit word, the first digit in its lowest byte: stored
// little-endian, they read in order. The number is split in lanes of one
// word (SIMD within a register), 4+4 digits, then 2+2+2+2, then 1 each,
// every division by 100 or 10 a multiplication and a shift done on all
// lanes at once: about 15 instructions and one store for what a loop of
// divisions by 100 did in four rounds of two table loads and two stores
// each. Integer formatting was a sixth of replay --json's instructions.
//
// Exactness: x/100 = x*5243>>19 for x < 43 699, and a lane holds x <
// 10 000, whose product (< 2^26) stays inside its 32 bits; x/10 =
// x*103>>10 for x < 179, and a 16-bit lane holds x < 100 (product < 2^14).
func swar8(v uint32) uint64 {
	return digits8(v) | 0x3030303030303030
}

// digits8 is swar8 before the digits become ASCII: digit values 0 to 9,
// one a byte, so a zero byte is a zero digit.
func digits8(v uint32) uint64 {
	hi := v / 10000
	x := uint64(hi) | uint64(v-hi*10000)<<32 // first four digits in the low lane
	q := (x * 5243 >> 19) & 0x0000007F0000007F
	x = q | (x-q*100)<<16 // each lane: its first pair in the low 16 bits
	q = (x * 103 >> 10) & 0x000F000F000F000F
	return q | (x-q*10)<<8 // each 16-bit lane: tens, then ones
}

// put8 stores the eight bytes of swar8's word in order (the lowest
// first, whatever the machine's byte order).
func put8(d []byte, x uint64) {
	binary.LittleEndian.PutUint64(d, x)
}

// AppendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func AppendInt(b []byte, v int64) []byte {
	if v < 0 {
		// -v as an unsigned number, also for the smallest int64.
		return AppendUint(append(b, '-'), uint64(^v)+1)
	}
	return AppendUint(b, uint64(v))
}

// AppendFixed appends v as exactly n digits, with leading zeros: the
// fraction of a time stamp (six or nine digits). v must be below 10^n; the
// digits above n are dropped otherwise.
func AppendFixed(b []byte, v uint64, n int) []byte {
	if n <= 0 {
		return b
	}
	if n < len(pow10) {
		v %= pow10[n]
	}
	if n <= 9 {
		b, l := room(b)
		if n == 9 {
			top := v / 1e8
			b[l] = byte('0' + top)
			v -= top * 1e8
			l++
			n = 8
		}
		put8(b[l:l+8], swar8(uint32(v))>>(64-8*n))
		return b[:l+n]
	}
	l := len(b)
	b = append(b, make([]byte, n)...)
	d := b[l:]
	k := Len(v)
	for i := range n - k {
		d[i] = '0'
	}
	put64(d[n-k:], v)
	return b
}

// AppendFraction9 appends v (0 < v < 10^9, nanoseconds) as the nine
// digits after a decimal point with the trailing zeros dropped ("5" for
// 500 000 000), as strconv formats the fraction of a float. The zeros are
// counted in the digits' word, not trimmed one byte at a time. v = 0
// appends "0" (a caller writes no fraction then); v ≥ 10^9 its last nine
// digits.
func AppendFraction9(b []byte, v uint32) []byte {
	v %= 1e9
	b, l := room(b)
	top := v / 1e8
	b[l] = byte('0' + top)
	d := digits8(v - top*1e8)
	if d == 0 {
		return b[:l+1] // the last eight digits are all zeros
	}
	// The last digits are the word's high bytes: its leading zero bytes
	// are the fraction's trailing zeros.
	put8(b[l+1:l+9], d|0x3030303030303030)
	return b[:l+9-bits.LeadingZeros64(d)/8]
}

// put32 writes v's digits into d, which must be exactly Len(v) long: two
// at a time from the back, in 32-bit arithmetic (a division by 100 is a
// multiplication and a shift).
func put32(d []byte, v uint32) {
	i := len(d)
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		d[i], d[i+1] = pairs[r], pairs[r+1]
		v = q
	}
	if v >= 10 {
		d[0], d[1] = pairs[v*2], pairs[v*2+1]
	} else {
		d[0] = byte('0' + v)
	}
}

// put64 is put32 for any v: 64-bit steps until the rest fits in 32 bits.
func put64(d []byte, v uint64) {
	i := len(d)
	for v > math.MaxUint32 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		d[i], d[i+1] = pairs[r], pairs[r+1]
		v = q
	}
	put32(d[:i], uint32(v))
}
