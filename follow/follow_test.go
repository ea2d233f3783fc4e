package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

// The views as they were in cmd/tcpscope before they moved here: building
// strings row by row. They are the reference the reused-buffer views must
// match byte for byte, with colour on and off.

func oldPaintDir(th render.Theme, roles [2]string, dir int, s string) string {
	if roles[dir] == "client" {
		return th.Client(s)
	}
	return th.Server(s)
}

func oldDirHeader(s *session.Session, roles [2]string, th render.Theme, c session.Chunk) string {
	return dirHeader(s, roles, th, c) // unchanged
}

type oldTextView struct {
	w     io.Writer
	th    render.Theme
	last  int
	begun bool
	buf   []byte
}

func (v *oldTextView) chunk(s *session.Session, c session.Chunk) error {
	if !v.begun {
		v.begun, v.last = true, -1
	}
	roles := s.Roles()
	var b strings.Builder
	if c.Dir != v.last {
		if v.last >= 0 {
			b.WriteString("\n")
		}
		b.WriteString(oldDirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	if len(c.Data) > 0 {
		v.buf = appendPrintable(v.buf[:0], c.Data)
		b.WriteString(oldPaintDir(v.th, roles, c.Dir, string(v.buf)))
	}
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)))
	}
	_, err := io.WriteString(v.w, b.String())
	return err
}

type oldHexView struct {
	w    io.Writer
	th   render.Theme
	off  [2]int
	last int
	seen bool
}

func (v *oldHexView) chunk(s *session.Session, c session.Chunk) error {
	if !v.seen {
		v.seen, v.last = true, -1
	}
	roles := s.Roles()
	var b strings.Builder
	if c.Dir != v.last {
		b.WriteString(oldDirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	var line []byte
	for i := 0; i < len(c.Data); i += 16 {
		line = oldHexLine(line[:0], v.off[c.Dir]+i, c.Data[i:min(i+16, len(c.Data))])
		b.WriteString(oldPaintDir(v.th, roles, c.Dir, string(line)) + "\n")
	}
	v.off[c.Dir] += len(c.Data) + c.Missing + c.Uncaptured
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)) + "\n")
	}
	_, err := io.WriteString(v.w, b.String())
	return err
}

func oldHexLine(b []byte, off int, row []byte) []byte {
	const digits = "0123456789abcdef"
	h := strconv.FormatInt(int64(off), 16)
	for i := len(h); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, h...)
	b = append(b, ' ', ' ')
	for i, c := range row {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	for i := len(row)*3 - 1; i < 47; i++ {
		b = append(b, ' ')
	}
	b = append(b, ' ', ' ')
	text := len(b)
	for _, c := range row {
		if c >= 0x80 {
			return append(b[:text], printable(bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\t' {
					return '.'
				}
				return r
			}, row))...)
		}
		if c < 0x20 || c == 0x7f {
			c = '.'
		}
		b = append(b, c)
	}
	return b
}

func testSession() *session.Session {
	return &session.Session{
		Ends:  [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("[2001:db8::2]:80")},
		Start: time.Unix(1700000000, 0),
	}
}

// mixedData is text (with CRLF, tabs, UTF-8) and binary (every byte
// value, UTF-8 cut mid-character) in runs of random length.
func mixedData(r *rand.Rand, n int) []byte {
	text := []byte("GET / HTTP/1.1\r\nHost: example\r\n\tvalue\r\nnaïve café 日本語 ✓ \x7f\r\r\n\n")
	b := make([]byte, 0, n)
	for len(b) < n {
		k := 1 + r.IntN(200)
		switch r.IntN(3) {
		case 0:
			for range k {
				b = append(b, text[r.IntN(len(text))])
			}
		case 1:
			off := r.IntN(len(text))
			b = append(b, text[off:min(off+k, len(text))]...)
		default:
			for range k {
				b = append(b, byte(r.IntN(256)))
			}
		}
	}
	return b[:n]
}

// chunks cuts data into a stream of chunks of both directions, with gaps
// and direction changes.
func chunks(r *rand.Rand, data []byte) []session.Chunk {
	var cs []session.Chunk
	dir, frame := 0, 1
	start := time.Unix(1700000000, 0)
	for len(data) > 0 {
		n := min(1+r.IntN(1500), len(data))
		c := session.Chunk{Dir: dir, Frame: frame, Time: start.Add(time.Duration(frame) * time.Millisecond), Data: data[:n]}
		switch r.IntN(10) {
		case 0:
			c.Missing = 1 + r.IntN(3000)
		case 1:
			c.Uncaptured = 1 + r.IntN(100)
		case 2:
			c.Data, c.Missing = nil, 1+r.IntN(2000)
			n = 0
		}
		cs = append(cs, c)
		data = data[n:]
		frame++
		if r.IntN(4) == 0 {
			dir = 1 - dir
		}
	}
	return cs
}

// TestViewsMatchOld: the text and hex views give, byte for byte, what
// the string-building views gave, with colour on and off, on text, binary,
// UTF-8 cut across rows, gaps and offsets past 8 hex digits.
func TestViewsMatchOld(t *testing.T) {
	s := testSession()
	for _, colour := range []bool{false, true} {
		th := render.NewTheme(colour)
		for seed := uint64(1); seed <= 20; seed++ {
			r := rand.New(rand.NewPCG(seed, 7))
			cs := chunks(r, mixedData(r, 40000))
			var got, want bytes.Buffer
			nv, ov := Hex(&got, th).(*hexView), &oldHexView{w: &want, th: th}
			if seed == 20 {
				nv.off = [2]int{0xfffffff0, 1 << 40} // offsets longer than 8 digits
				ov.off = nv.off
			}
			for _, c := range cs {
				if err := nv.Chunk(s, c); err != nil {
					t.Fatal(err)
				}
				if err := ov.chunk(s, c); err != nil {
					t.Fatal(err)
				}
			}
			if colour && !bytes.Contains(got.Bytes(), []byte("\x1b[34m")) {
				t.Fatalf("colour on, but no blue in the output")
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("hex, colour %v, seed %d: differs from the old view at byte %d", colour, seed, firstDiff(got.Bytes(), want.Bytes()))
			}
			got.Reset()
			want.Reset()
			tv, otv := Text(&got, th), &oldTextView{w: &want, th: th}
			for _, c := range cs {
				if err := tv.Chunk(s, c); err != nil {
					t.Fatal(err)
				}
				if err := otv.chunk(s, c); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("text, colour %v, seed %d: differs from the old view at byte %d", colour, seed, firstDiff(got.Bytes(), want.Bytes()))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestHexLine pins the layout of a row, and its text column for bytes
// that are not ASCII (one '.' per byte of each character's UTF-8 form,
// three for a byte that is not UTF-8).
func TestHexLine(t *testing.T) {
	for _, tc := range []struct {
		off  int
		row  string
		want string
	}{
		{0, "GET /eng", "00000000  47 45 54 20 2f 65 6e 67                          GET /eng"},
		{0x10, "a\r\n\tb\x00\x7f", "00000010  61 0d 0a 09 62 00 7f                             a...b.."},
		{0x123456789, "0123456789abcdef", "123456789  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  0123456789abcdef"},
		{0, "é\n\xff", "00000000  c3 a9 0a ff                                      ......"},
		{0, "日\xe6\x9c", "00000000  e6 97 a5 e6 9c                                   ........."},
	} {
		if got := string(hexLine(nil, tc.off, []byte(tc.row))); got != tc.want {
			t.Errorf("hexLine(%#x, %q)\n got %q\nwant %q", tc.off, tc.row, got, tc.want)
		}
		if want := string(oldHexLine(nil, tc.off, []byte(tc.row))); want != tc.want {
			t.Errorf("the old hexLine(%#x, %q) = %q, not %q", tc.off, tc.row, want, tc.want)
		}
	}
	// Every short row of bytes: the same as the old hexLine.
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		row := make([]byte, 1+r.IntN(16))
		for i := range row {
			row[i] = byte(r.IntN(256))
			if r.IntN(3) == 0 {
				row[i] = "é✓\n\t\r a"[r.IntN(10)]
			}
		}
		if !utf8.Valid(row) && r.IntN(2) == 0 {
			v := []byte(strings.ToValidUTF8(string(row), "�"))
			row = v[:min(16, len(v))]
		}
		off := r.IntN(1 << 36)
		if got, want := hexLine(nil, off, row), oldHexLine(nil, off, row); !bytes.Equal(got, want) {
			t.Fatalf("hexLine(%#x, %q)\n got %q\nwant %q", off, row, got, want)
		}
	}
	// Whole rows of ASCII (the word-at-a-time text column), every byte
	// value below 0x80 at every position, after a prefix.
	for range 20000 {
		row := make([]byte, 16)
		for i := range row {
			row[i] = byte(r.IntN(0x80))
		}
		off := r.IntN(1 << (28 + r.IntN(12))) // below and above 4 GiB
		if r.IntN(8) == 0 {
			off = 1<<32 - 16 + r.IntN(32) // around 4 GiB, where the ninth digit starts
		}
		if got, want := hexLine([]byte("x"), off, row), oldHexLine([]byte("x"), off, row); !bytes.Equal(got, want) {
			t.Fatalf("hexLine(%#x, %q)\n got %q\nwant %q", off, row, got, want)
		}
	}
}

func BenchmarkHexLine(b *testing.B) {
	row := []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n")[:16]
	b.ReportAllocs()
	buf := make([]byte, 0, 128)
	off := 0
	for b.Loop() {
		buf = hexLine(buf[:0], off, row)
		off += 16
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":       "a\nb",
		"a\rb\r":       "a.b.",
		"\t\x00\x1b[m": "\t..[m",
		"café":         "caf..",
	} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHexAllocs: the hex view allocates nothing per row (it did five or
// so: the row, its string, the painted string, the builder growing, and
// bytes.Map's copy for a row that is not ASCII), nor per chunk.
func TestHexAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := mixedData(r, 1448) // 91 rows
	s := testSession()
	for _, colour := range []bool{false, true} {
		v := Hex(io.Discard, render.NewTheme(colour))
		c := session.Chunk{Dir: 0, Frame: 1, Data: data}
		perChunk := testing.AllocsPerRun(200, func() {
			if err := v.Chunk(s, c); err != nil {
				t.Fatal(err)
			}
		})
		rows := float64((len(data) + 15) / 16)
		if perChunk/rows > 0.01 {
			t.Errorf("colour %v: %.1f allocations per chunk of %d rows, %.2f per row; want none", colour, perChunk, int(rows), perChunk/rows)
		}
	}
}

// TestTextAllocs: the text view allocates nothing per chunk once its
// buffer has grown (it built a string, copied it into a builder, and
// painted a copy).
func TestTextAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := mixedData(r, 1448)
	s := testSession()
	for _, colour := range []bool{false, true} {
		v := Text(io.Discard, render.NewTheme(colour))
		c := session.Chunk{Dir: 1, Frame: 1, Data: data}
		if n := testing.AllocsPerRun(200, func() {
			if err := v.Chunk(s, c); err != nil {
				t.Fatal(err)
			}
		}); n > 0 {
			t.Errorf("colour %v: %.1f allocations per chunk, want none", colour, n)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriteError: a failed write comes back as a *WriteError (a command
// tells it from a capture it cannot read), holding the writer's error.
func TestWriteError(t *testing.T) {
	boom := errors.New("boom")
	s := testSession()
	for name, v := range map[string]Writer{
		"text": Text(failWriter{boom}, render.NewTheme(false)),
		"hex":  Hex(failWriter{boom}, render.NewTheme(false)),
	} {
		err := v.Chunk(s, session.Chunk{Data: []byte("hello")})
		var we *WriteError
		if !errors.As(err, &we) || we.Err != boom {
			t.Errorf("%s: %v, want a *WriteError holding boom", name, err)
		}
	}
	// A chunk bigger than hexFlushAt is written in pieces; the first
	// failure stops it.
	n := 0
	v := Hex(writerFunc(func(p []byte) (int, error) {
		n++
		return 0, boom
	}), render.NewTheme(false))
	if err := v.Chunk(s, session.Chunk{Data: make([]byte, 1<<20)}); !errors.Is(err, boom) || n != 1 {
		t.Errorf("1 MiB chunk to a failing writer: %v after %d writes", err, n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// benchHex writes data, in chunks of one segment (1448 bytes), through a
// hex view.
func benchHex(b *testing.B, data []byte, colour bool, chunk func(v any, s *session.Session, c session.Chunk) error, mk func(th render.Theme) any) {
	s := testSession()
	v := mk(render.NewTheme(colour))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(data); i += 1448 {
			if err := chunk(v, s, session.Chunk{Dir: 0, Frame: 1, Data: data[i:min(i+1448, len(data))]}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkHex compares the hex view with the old one (old-*) on 1 MiB of
// mixed text and binary, and of zeros (bench/bulk.pcap's payload).
func BenchmarkHex(b *testing.B) {
	newHex := func(th render.Theme) any { return Hex(io.Discard, th) }
	newChunk := func(v any, s *session.Session, c session.Chunk) error { return v.(Writer).Chunk(s, c) }
	oldHex := func(th render.Theme) any { return &oldHexView{w: io.Discard, th: th} }
	oldChunk := func(v any, s *session.Session, c session.Chunk) error { return v.(*oldHexView).chunk(s, c) }
	mixed, zeros := mixedData(rand.New(rand.NewPCG(1, 2)), 1<<20), make([]byte, 1<<20)
	b.Run("plain", func(b *testing.B) { benchHex(b, mixed, false, newChunk, newHex) })
	b.Run("colour", func(b *testing.B) { benchHex(b, mixed, true, newChunk, newHex) })
	b.Run("zeros", func(b *testing.B) { benchHex(b, zeros, false, newChunk, newHex) })
	b.Run("old-plain", func(b *testing.B) { benchHex(b, mixed, false, oldChunk, oldHex) })
	b.Run("old-colour", func(b *testing.B) { benchHex(b, mixed, true, oldChunk, oldHex) })
	b.Run("old-zeros", func(b *testing.B) { benchHex(b, zeros, false, oldChunk, oldHex) })
}

// BenchmarkText: the text view over 1 MiB of mixed data, and of zeros
// (binary: every byte becomes '.'), in chunks of one segment.
func BenchmarkText(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, data := range map[string][]byte{"mixed": mixedData(r, 1<<20), "zeros": make([]byte, 1<<20), "ascii": bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"), 1<<20/37)} {
		b.Run(name, func(b *testing.B) {
			s := testSession()
			v := Text(io.Discard, render.NewTheme(false))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < len(data); i += 1448 {
					if err := v.Chunk(s, session.Chunk{Dir: 0, Frame: 1, Data: data[i:min(i+1448, len(data))]}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestTables: the lookup tables written out as constants say what they
// are meant to.
func TestTables(t *testing.T) {
	if len(shown) != 256 || len(hexText) != 128 || len(hexPairs) != 512 {
		t.Fatalf("table sizes %d %d %d", len(shown), len(hexText), len(hexPairs))
	}
	for c := range 256 {
		want := byte('.')
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			want = byte(c)
		}
		if shown[c] != want {
			t.Errorf("shown[%#x] = %q, want %q", c, shown[c], want)
		}
		if c < 128 {
			want = byte(c)
			if c < 0x20 || c == 0x7f {
				want = '.'
			}
			if hexText[c] != want {
				t.Errorf("hexText[%#x] = %q, want %q", c, hexText[c], want)
			}
		}
		if h := hexPairs[2*c : 2*c+2]; h != fmt.Sprintf("%02x", c) {
			t.Errorf("hexPairs of %#x: %q", c, h)
		}
	}
}

// FuzzHexLine holds hexLine to the old fmt-shaped one on any row and
// offset.
func FuzzHexLine(f *testing.F) {
	f.Add([]byte("GET /index.html HTTP/1.1"), int64(0))
	f.Add([]byte("日本語のテキスト\x00\xff"), int64(1<<32-16))
	f.Fuzz(func(t *testing.T, row []byte, off int64) {
		if off < 0 {
			off = -off
		}
		if off < 0 { // the most negative int64
			return
		}
		row = row[:min(len(row), 16)]
		if len(row) == 0 {
			return
		}
		if got, want := hexLine([]byte("p"), int(off), row), oldHexLine([]byte("p"), int(off), row); !bytes.Equal(got, want) {
			t.Fatalf("hexLine(%#x, %q)\n got %q\nwant %q", off, row, got, want)
		}
	})
}
