package render

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
)

// plainByte is plain8's rule for one byte: copied as is by
// strconv.AppendQuote, whatever comes around it.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

// TestPlain8 holds plain8 to the byte-by-byte rule: every byte value in
// every position of a plain word, and random words rich in the bytes
// around the limits.
func TestPlain8(t *testing.T) {
	base := []byte("abcdefgh")
	for pos := range 8 {
		for c := range 256 {
			w := append([]byte(nil), base...)
			w[pos] = byte(c)
			if got, want := plain8(binary.LittleEndian.Uint64(w)), plainByte(byte(c)); got != want {
				t.Fatalf("plain8(%q) = %v, want %v", w, got, want)
			}
		}
	}
	edges := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '!', '#', '\\', '[', ']', 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 'a'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		want := true
		for i := range w {
			w[i] = edges[r.IntN(len(edges))]
			if r.IntN(3) == 0 {
				w[i] = byte(r.IntN(256))
			}
			want = want && plainByte(w[i])
		}
		if got := plain8(binary.LittleEndian.Uint64(w[:])); got != want {
			t.Fatalf("plain8(%q) = %v, want %v", w, got, want)
		}
	}
}

// quotedCases: notes as they are, and text that needs escaping at every
// place relative to the eight-byte steps.
func quotedCases() []string {
	cases := []string{
		"", "a", "handshake 1/3: client asks to connect (ISN 2385244499, MSS 1460, wscale 10, SACK ok)",
		`11 bytes of data: "hello, TCP\n"`, "client: SYN-SENT → ESTABLISHED", "bad \xff utf-8", "del \x7f", "tab\there",
		"\u00a0non-breaking space (not printable for strconv)",
	}
	for i := range 20 {
		for _, s := range []string{`"`, `\`, "\n", "\x00", "é", "\x7f", "\xe2\x86"} {
			cases = append(cases, strings.Repeat("x", i)+s+strings.Repeat("y", 9))
		}
	}
	return cases
}

// TestAppendQuotedSameAsStrconv: appendQuoted writes exactly what
// strconv.AppendQuote writes, after whatever the buffer held.
func TestAppendQuotedSameAsStrconv(t *testing.T) {
	for _, s := range quotedCases() {
		checkQuoted(t, s)
	}
}

func checkQuoted(t *testing.T, s string) {
	t.Helper()
	prefix := []byte(`{"note":`)
	got := appendQuoted(append([]byte(nil), prefix...), func(b []byte) []byte { return append(b, s...) })
	want := strconv.AppendQuote(append([]byte(nil), prefix...), s)
	if string(got) != string(want) {
		t.Fatalf("appendQuoted(%q) = %s, want %s", s, got, want)
	}
}

// FuzzAppendQuoted: the same for any bytes.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range quotedCases() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkQuoted(t, s) })
}

// TestChecksumKeySaysString: the JSON line's whole "tcp_checksum" key
// says each verdict in the words of its String, quoted.
func TestChecksumKeySaysString(t *testing.T) {
	for c := decode.ChecksumUnverified; c <= decode.ChecksumPartial+1; c++ {
		if got, want := checksumKey(c), `,"tcp_checksum":`+strconv.Quote(c.String()); got != want {
			t.Errorf("checksumKey(%d) = %s, want %s", c, got, want)
		}
	}
}
