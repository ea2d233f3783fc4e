package follow

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// printableRef is printable's rule written plainly, the oracle for the
// word-at-a-time appendPrintable.
func printableRef(b []byte) []byte {
	var out []byte
	for i, c := range b {
		switch {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
		case c == '\t' || c == '\n' || c >= ' ' && c <= '~':
			out = append(out, c)
		default:
			out = append(out, '.')
		}
	}
	return out
}

// printables are the versions of appendPrintable: the one this
// architecture uses (on amd64, sixteen bytes at a time in assembly) and the
// portable one (eight at a time), each held to printableRef.
var printables = []struct {
	name string
	fn   func(dst, b []byte) []byte
}{
	{"appendPrintable", appendPrintable},
	{"appendPrintableSWAR", appendPrintableSWAR},
}

// TestAppendPrintableWords compares appendPrintable with the plain rule on
// random data of every length up to 70 (so blocks of 16 and words of 8
// with a CR, or a CRLF split, anywhere in them), from alphabets that put CR, LF and
// the edges of the printable range (0x08-0x0b, 0x1f, 0x20, 0x7e, 0x7f,
// 0x80, 0xff) on and across word boundaries, after prefixes of 0 to 8 bytes.
func TestAppendPrintableWords(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabets := [][]byte{
		[]byte("\r\n"),
		[]byte("\r\na"),
		[]byte("abcdefgh"),
		{0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0x81, 0x89, 0x8a, 0x9f, 0xa0, 0xfe, 0xff},
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		nil, // every byte value
	}
	for _, alpha := range alphabets {
		for n := 0; n <= 70; n++ {
			for trial := 0; trial < 40; trial++ {
				b := make([]byte, n)
				for i := range b {
					if alpha == nil {
						b[i] = byte(r.UintN(256))
					} else {
						b[i] = alpha[r.IntN(len(alpha))]
					}
				}
				prefix := bytes.Repeat([]byte("p"), trial%9)
				want := append(prefix, printableRef(b)...)
				for _, v := range printables {
					got := v.fn(append([]byte(nil), prefix...), b)
					if !bytes.Equal(got, want) {
						t.Fatalf("%s(%q) = %q, want %q", v.name, b, got[len(prefix):], want[len(prefix):])
					}
				}
			}
		}
	}
}

// TestWordClassifiers checks shownAsIs and zeroBytes on every byte value
// at every position of a word, among neighbours that would carry or
// borrow into it if the arithmetic leaked across bytes.
func TestWordClassifiers(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for _, fill := range []uint64{0, ^uint64(0), ones * 0x01, ones * 0x7f, ones * 0x80, ones * 0x0a} {
				w := fill&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
				if got, want := shownAsIs(w)>>(8*pos)&0xff, shown[c] == byte(c); (got == 0x80) != want || got&^0x80 != 0 {
					t.Errorf("shownAsIs(%#x) byte %d = %#x, want shown as itself %v", w, pos, got, want)
				}
				if got, want := zeroBytes(w)>>(8*pos)&0xff, c == 0; (got == 0x80) != want || got&^0x80 != 0 {
					t.Errorf("zeroBytes(%#x) byte %d = %#x, want zero %v", w, pos, got, want)
				}
			}
		}
	}
}

func FuzzAppendPrintable(f *testing.F) {
	f.Add([]byte("abc\r\ndef\r\r\n\x00\x7f\x80\xff"), 3)
	f.Add([]byte("1234567\r\n"), 0)
	f.Fuzz(func(t *testing.T, b []byte, pre int) {
		prefix := bytes.Repeat([]byte{'x'}, pre&15)
		want := append(prefix, printableRef(b)...)
		for _, v := range printables {
			if got := v.fn(append([]byte(nil), prefix...), b); !bytes.Equal(got, want) {
				t.Fatalf("%s(%q) = %q, want %q", v.name, b, got, want)
			}
		}
	})
}

// BenchmarkAppendPrintable: letters (BenchmarkBigStream's body), HTTP
// headers (a CRLF every 20 bytes), zeros (bench/loadgen's bulk data) and
// random bytes, 64 KiB each.
func BenchmarkAppendPrintable(b *testing.B) {
	letters := make([]byte, 64<<10)
	for i := range letters {
		letters[i] = 'a' + byte(i%26)
	}
	random := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"letters", letters},
		{"http", bytes.Repeat([]byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"), 1100)},
		{"zeros", make([]byte, 64<<10)},
		{"random", random},
	} {
		for _, f := range []struct {
			name string
			fn   func(dst, b []byte) []byte
		}{
			{"blocks", appendPrintable},
			{"words", appendPrintableSWAR},
			{"bytes", func(dst, b []byte) []byte { return appendPrintableBytes(slices.Grow(dst, len(b)), b, nil) }},
		} {
			b.Run(c.name+"/"+f.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.data)))
				var dst []byte
				for b.Loop() {
					dst = f.fn(dst[:0], c.data)
				}
			})
		}
	}
}
