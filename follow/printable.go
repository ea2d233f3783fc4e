package follow

import (
	"encoding/binary"
	"slices"
)

// shown is what printable shows for each byte but the CR of CRLF: the
// byte itself (tab, newline, and ASCII from space to '~') or '.'.
const shown = "........." + "\t\n" + "....................." +
	" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~" +
	"................................................................................................................................." // 0x7f-0xff

// appendPrintableSWAR appends printable(b) to dst, growing it once: the
// portable appendPrintable (on amd64, see printable_amd64.go). A followed
// stream can be gigabytes, so it works eight bytes at a time ("SWAR", SIMD
// within a register): a word whose bytes are all shown as themselves, the
// usual case in text, is copied whole; in any other word without a CR, the
// bytes that are not become '.' with a mask; a word holding a CR goes byte
// by byte, since a CR is dropped only before a LF. Byte by byte through
// the table (appendPrintableBytes) took follow --no-http 0.5 s of CPU for a
// 1 GB stream. TestAppendPrintableWords and FuzzAppendPrintable hold it to
// the plain rule.
func appendPrintableSWAR(dst, b []byte) []byte {
	dst = slices.Grow(dst, len(b))
	j := len(dst)
	dst = dst[:j+len(b)]
	i := 0
	for ; i+32 <= len(b); i += 32 {
		// Four words at a time: copied when all their bytes are shown as
		// they are, masked when some are not but none is a CR.
		in, out := b[i:i+32], dst[j:j+32]
		w0, w1 := binary.LittleEndian.Uint64(in), binary.LittleEndian.Uint64(in[8:])
		w2, w3 := binary.LittleEndian.Uint64(in[16:]), binary.LittleEndian.Uint64(in[24:])
		s0, s1, s2, s3 := shownAsIs(w0), shownAsIs(w1), shownAsIs(w2), shownAsIs(w3)
		if s0&s1&s2&s3 != high {
			if zeroBytes(w0^cr)|zeroBytes(w1^cr)|zeroBytes(w2^cr)|zeroBytes(w3^cr) != 0 {
				j = appendWords(dst, j, b, i, i+32)
				continue
			}
			w0, w1, w2, w3 = dotted(w0, s0), dotted(w1, s1), dotted(w2, s2), dotted(w3, s3)
		}
		binary.LittleEndian.PutUint64(out, w0)
		binary.LittleEndian.PutUint64(out[8:], w1)
		binary.LittleEndian.PutUint64(out[16:], w2)
		binary.LittleEndian.PutUint64(out[24:], w3)
		j += 32
	}
	end := i + (len(b)-i)&^7
	j = appendWords(dst, j, b, i, end)
	i = end
	j = len(appendPrintableBytes(dst[:j], b[i:], nil))
	return dst[:j]
}

// appendWords is appendPrintable for the words of b[i:end] (end-i a
// multiple of 8) written from dst[j], which has room; it returns where the
// next byte goes.
func appendWords(dst []byte, j int, b []byte, i, end int) int {
	for ; i < end; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if s := shownAsIs(w); s != high {
			if zeroBytes(w^cr) != 0 {
				j = crWord(dst, j, b, i)
				continue
			}
			w = dotted(w, s)
		}
		binary.LittleEndian.PutUint64(dst[j:], w)
		j += 8
	}
	return j
}

// crWord is appendPrintable's slow path for the word b[i:i+8], which holds
// a CR; it returns where the next byte goes. It is kept out of line so that
// the loop above keeps its variables in registers.
//
//go:noinline
func crWord(dst []byte, j int, b []byte, i int) int {
	return len(appendPrintableBytes(dst[:j], b[i:i+8], b[i+8:]))
}

// appendPrintableBytes is appendPrintable a byte at a time, looking each
// byte up in shown; next is what follows b (a CR at b's end is dropped when
// next starts with LF). dst must have room for b.
func appendPrintableBytes(dst, b, next []byte) []byte {
	j := len(dst)
	dst = dst[:j+len(b)]
	for i, c := range b {
		if c == '\r' && (i+1 < len(b) && b[i+1] == '\n' || i+1 == len(b) && len(next) > 0 && next[0] == '\n') {
			continue // the CR of CRLF is dropped
		}
		dst[j] = shown[c]
		j++
	}
	return dst[:j]
}

// dotted is w with '.' in each byte whose top bit is clear in s (the
// bytes shownAsIs did not flag).
func dotted(w, s uint64) uint64 {
	keep := s >> 7 * 0xff // 0xff in each byte shown as itself, else 0
	return w&keep | ones*'.'&^keep
}

const (
	cr   = ones * '\r'
	ones = 0x0101010101010101 // a byte's value times ones: that byte eight times
	high = 0x8080808080808080 // each byte's top bit
	low7 = 0x7f7f7f7f7f7f7f7f // each byte's seven low bits
)

// shownAsIs sets the top bit of each byte of w that printable shows as
// itself, 0x09 (tab), 0x0a (LF) and 0x20 (space) to 0x7e ('~'), and no
// other bit. For a byte v below 0x80, v+k reaches 0x80 exactly when
// v >= 0x80-k, and seven bits plus k < 0x80 never carry out of the byte:
// so (v+0x60) &^ (v+0x01) flags 0x20 to 0x7e, (v+0x77) &^ (v+0x75) flags
// 0x09 and 0x0a, and &^ w drops the bytes from 0x80 up.
func shownAsIs(w uint64) uint64 {
	v := w & low7
	return ((v+ones*0x60)&^(v+ones*0x01) | (v+ones*0x77)&^(v+ones*0x75)) &^ w & high
}

// zeroBytes sets the top bit of each byte of w that is zero, and no other
// bit. (The shorter (w-ones)&^w&high also flags a 0x01 above a zero byte;
// this one adds within each byte's seven low bits, so nothing carries into
// the next byte.)
func zeroBytes(w uint64) uint64 {
	return ^((w&low7 + low7) | w | low7)
}
