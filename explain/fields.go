// How an Explanation is built: the builder, and how one field is read
// (the whole word with ntohs/ntohl, then shifted and masked, as C reads it).
// The layers are in fields_ip.go and fields_tcp.go, the names of values in
// names.go.

package explain

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
)

// builder accumulates the layers of one Explanation.
type builder struct {
	o      binary.ByteOrder // the order a program on this host reads memory in
	e      *Explanation
	sender string // "client", "server" (from the handshake) or "" (unknown)
}

// spec locates a numeric field inside a header. The field is read as the
// whole 1-, 2- or 4-byte word that holds it (converted with ntohs/ntohl),
// then shifted and masked: that is how C code reads the IHL, the fragment
// offset or the flow label, and showing both steps is the point.
type spec struct {
	key, name string
	rel       int    // offset of the word from the start of the header
	size      int    // bytes in the word: 1, 2 or 4
	shift     uint   // right shift applied to the host-order word
	mask      uint64 // mask applied after the shift; 0 = the whole word
	bitPos    int    // first bit of the field within the word, 0 = most significant
	bits      int    // width of the field; 0 = the whole word
}

// num reads the field described by s from hdr, the captured bytes of a
// header that starts at frame offset base. A field whose bytes were not
// captured comes back with Missing set and no value.
func (b *builder) num(base int, hdr []byte, s spec) Field {
	bits := s.bits
	if bits == 0 {
		bits = s.size * 8
	}
	f := Field{Key: s.key, Name: s.name, Offset: base + s.rel + s.bitPos/8, Bits: bits, BitOffset: s.bitPos % 8}
	if s.rel+s.size > len(hdr) {
		f.Missing = true
		f.cell = []string{"(not captured)", "?"}
		return f
	}
	raw := hdr[s.rel : s.rel+s.size]
	f.Raw = hexBytes(raw)
	var word, native uint64
	var fn string
	switch s.size {
	case 1:
		word = uint64(raw[0])
	case 2:
		word, native, fn = uint64(decode.Ntohs(raw)), uint64(b.o.Uint16(raw)), "ntohs"
	case 4:
		word, native, fn = uint64(decode.Ntohl(raw)), uint64(b.o.Uint32(raw)), "ntohl"
	}
	v := word
	if s.mask != 0 {
		v = (word >> s.shift) & s.mask
		native = (native >> s.shift) & s.mask
	}
	f.Value = &v
	switch {
	case s.size == 1 && s.mask == 0:
		// One byte has no byte order: nothing to convert.
	case s.size == 1:
		f.Conversion = fmt.Sprintf("%s = %d", shiftMask(fmt.Sprintf("0x%02x", word), s.shift, s.mask), v)
	case s.mask == 0:
		f.Conversion = fmt.Sprintf("%s(%s) = %d", fn, f.Raw, v)
		f.Unconverted = &native
	default:
		f.Conversion = fmt.Sprintf("%s(%s) = 0x%0*x; %s = %d", fn, f.Raw, s.size*2, word, shiftMask("", s.shift, s.mask), v)
		f.Unconverted = &native
	}
	return f
}

// shiftMask writes the C expression that extracts a field from word w.
func shiftMask(w string, shift uint, mask uint64) string {
	sh, m := "", ""
	if shift > 0 {
		sh = fmt.Sprintf(">> %d", shift)
	}
	if mask != 0 {
		m = fmt.Sprintf("& 0x%x", mask)
	}
	switch {
	case w == "" && sh != "" && m != "":
		return "(" + sh + ") " + m
	case w == "":
		return strings.TrimSpace(sh + m)
	case sh != "" && m != "" && !maskIsRest(shift, mask, len(w)):
		return "(" + w + " " + sh + ") " + m
	case sh != "":
		return w + " " + sh
	}
	return w + " " + m
}

// maskIsRest reports whether the mask keeps every bit left after the shift
// of a one-byte word (written as 0xNN, 4 characters), so it can be omitted.
func maskIsRest(shift uint, mask uint64, wlen int) bool {
	return wlen == 4 && mask == 0xFF>>shift
}

// bytesField shows a run of bytes that is not a number: an address, the
// options area.
func (b *builder) bytesField(base int, hdr []byte, key, name string, rel, n int, text string) Field {
	f := Field{Key: key, Name: name, Offset: base + rel, Bits: n * 8, Text: text}
	if rel+n > len(hdr) {
		f.Missing = true
		f.Text = ""
		f.cell = []string{"(not captured)", "?"}
		return f
	}
	f.Raw = hexBytes(hdr[rel : rel+n])
	return f
}

func hexBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

func val(f Field) uint64 {
	if f.Value == nil {
		return 0
	}
	return *f.Value
}

func (l *Layer) add(f Field) { l.Fields = append(l.Fields, f) }
