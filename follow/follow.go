package follow

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

// Writer shows a followed stream as its chunks arrive (give Chunk to
// session.LoadOptions.OnChunk, then call Finish with the loaded session):
// what it holds does not grow with the stream.
type Writer interface {
	Chunk(s *session.Session, c session.Chunk) error
	Finish(s *session.Session) error
}

// WriteError is a failed write of the output (a closed pipe, a full
// disk), told apart from a capture that cannot be read: session.Load
// returns a Writer's error as it is, so a command can tell the two apart
// with errors.As.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

func writeErr(err error) error {
	if err == nil {
		return nil
	}
	return &WriteError{err}
}

// nOf says "1 segment" or "N segments".
func nOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func paintDir(th render.Theme, roles [2]string, dir int, s string) string {
	if roles[dir] == "client" {
		return th.Client(s)
	}
	return th.Server(s)
}

// codes are the escape sequences a theme puts around a string of one
// role, taken from the theme itself (what it paints around a mark), so
// that appending on, the bytes, off gives what th.Client(string(bytes))
// gives without building the string: both empty with colour off.
type codes struct{ on, off string }

func codesOf(paint func(string) string) codes {
	const mark = "\x00"
	p := paint(mark)
	i := strings.Index(p, mark)
	if i < 0 {
		return codes{}
	}
	return codes{p[:i], p[i+len(mark):]}
}

// dirCodes are the codes of the client's and of the server's text.
type dirCodes struct {
	client, server codes
}

func newDirCodes(th render.Theme) dirCodes {
	return dirCodes{codesOf(th.Client), codesOf(th.Server)}
}

// of is paintDir's codes.
func (d *dirCodes) of(roles [2]string, dir int) codes {
	if roles[dir] == "client" {
		return d.client
	}
	return d.server
}

// dirHeader is the line printed whenever the direction changes.
func dirHeader(s *session.Session, roles [2]string, th render.Theme, c session.Chunk) string {
	h := fmt.Sprintf("── %s %s → %s  (frame %d, %.6fs) ──", roles[c.Dir], s.Ends[c.Dir], s.Ends[1-c.Dir], c.Frame, c.Time.Sub(s.Start).Seconds())
	return th.Bold(paintDir(th, roles, c.Dir, h))
}

func gapText(c session.Chunk) string {
	if c.Missing > 0 {
		return "[" + nOf(c.Missing, "byte") + " missing]"
	}
	return "[" + nOf(c.Uncaptured, "byte") + " not captured]"
}

// printable keeps text readable and harmless on a terminal: control bytes
// other than newline and tab (and the CR of CRLF) become '.'.
func printable(b []byte) string {
	return string(appendPrintable(nil, b))
}

// footer says what the reassembly could not place.
func footer(w io.Writer, s *session.Session, th render.Theme) error {
	n := s.Follow.Delivered()
	roles := s.Roles()
	_, err := fmt.Fprintf(w, "%s\n", th.Dim(fmt.Sprintf("── %s from the %s, %s from the %s ──", nOf(n[0], "byte"), roles[0], nOf(n[1], "byte"), roles[1])))
	if wt := s.Follow.Waiting(); wt[0]+wt[1] > 0 {
		_, err = fmt.Fprintf(w, "%s\n", th.Warn(nOf(wt[0]+wt[1], "byte")+" not shown: they follow a hole that nobody acknowledged, so their place in the stream is unknown"))
	}
	return err
}

// Text prints the chunks as text, a header line each time the direction
// changes.
func Text(w io.Writer, th render.Theme) Writer {
	return &textView{w: w, th: th, col: newDirCodes(th)}
}

type textView struct {
	w     io.Writer
	th    render.Theme
	col   dirCodes
	last  int
	begun bool
	buf   []byte // reused by every chunk
}

func (v *textView) Chunk(s *session.Session, c session.Chunk) error {
	if !v.begun {
		v.begun, v.last = true, -1
	}
	roles := s.Roles()
	b := v.buf[:0]
	if c.Dir != v.last {
		if v.last >= 0 {
			b = append(b, '\n')
		}
		b = append(b, dirHeader(s, roles, v.th, c)...)
		b = append(b, '\n')
		v.last = c.Dir
	}
	if len(c.Data) > 0 {
		col := v.col.of(roles, c.Dir)
		b = append(b, col.on...)
		b = appendPrintable(b, c.Data)
		b = append(b, col.off...)
	}
	if c.Missing > 0 || c.Uncaptured > 0 {
		b = append(b, v.th.Warn(gapText(c))...)
	}
	v.buf = b
	_, err := v.w.Write(b)
	return writeErr(err)
}

func (v *textView) Finish(s *session.Session) error {
	if v.begun && v.last >= 0 {
		if _, err := fmt.Fprintln(v.w); err != nil {
			return writeErr(err)
		}
	}
	return writeErr(footer(v.w, s, v.th))
}

// Hex prints each run of one direction as a hex dump whose offsets count
// that direction's bytes (gaps included), so they line up with relative
// sequence numbers minus one.
func Hex(w io.Writer, th render.Theme) Writer {
	return &hexView{w: w, th: th, col: newDirCodes(th)}
}

type hexView struct {
	w    io.Writer
	th   render.Theme
	col  dirCodes
	off  [2]int
	last int
	seen bool
	buf  []byte // reused by every chunk: a long stream has millions of rows
}

// hexFlushAt bounds the buffer of one chunk: it is written out when it
// grows past this, whatever the chunk's size.
const hexFlushAt = 64 << 10

func (v *hexView) Chunk(s *session.Session, c session.Chunk) error {
	if !v.seen {
		v.seen, v.last = true, -1
	}
	roles := s.Roles()
	b := v.buf[:0]
	if c.Dir != v.last {
		b = append(b, dirHeader(s, roles, v.th, c)...)
		b = append(b, '\n')
		v.last = c.Dir
	}
	col := v.col.of(roles, c.Dir)
	for i := 0; i < len(c.Data); i += 16 {
		b = append(b, col.on...)
		b = hexLine(b, v.off[c.Dir]+i, c.Data[i:min(i+16, len(c.Data))])
		b = append(b, col.off...)
		b = append(b, '\n')
		if len(b) >= hexFlushAt {
			_, err := v.w.Write(b)
			v.buf = b[:0]
			if err != nil {
				return writeErr(err)
			}
			b = b[:0]
		}
	}
	v.off[c.Dir] += len(c.Data) + c.Missing + c.Uncaptured
	if c.Missing > 0 || c.Uncaptured > 0 {
		b = append(b, v.th.Warn(gapText(c))...)
		b = append(b, '\n')
	}
	v.buf = b
	_, err := v.w.Write(b)
	return writeErr(err)
}

// hexLine appends one row of the dump: the offset in at least 8 hex
// digits, the bytes in hex, and the same bytes as text (what fmt's
// "%08x  %-47s  %s" with "% x" gave, written out without allocating: a
// long stream has millions of rows).
func hexLine(b []byte, off int, row []byte) []byte {
	n := max((bits.Len64(uint64(off))+3)/4, 8) // hex digits
	// After the offset: two spaces, 16 columns of "xx " less the last
	// space, two spaces, then the text. The row is written in place.
	const blank = "  " + "                                               " + "  "
	row = row[:min(len(row), 16)]
	start, size := len(b), n+len(blank)+len(row)
	b = slices.Grow(b, size)[:start+size]
	p := b[start:]
	appendOffset(p[:n], off)
	text := p[n+len(blank):]
	if len(row) == 16 {
		// A whole row (all but a chunk's last): each byte's cell is
		// stored whole, its two spaces landing on the next cell or on the
		// separator, and the text is made eight bytes at a time. With the
		// offset's digits made at once, 1.5× faster than byte by byte
		// (BenchmarkHexLine): follow --raw on bench/bulk.pcap 1.25 → 1.07 s.
		p[n], p[n+1] = ' ', ' '
		cells := p[n+2 : n+2+16*3+1]
		for i, c := range row {
			binary.LittleEndian.PutUint32(cells[3*i:], hexCells[c])
		}
		w0, w1 := binary.LittleEndian.Uint64(row), binary.LittleEndian.Uint64(row[8:])
		if (w0|w1)&high != 0 {
			return appendHexTextUTF8(b[:start+n+len(blank)], row)
		}
		binary.LittleEndian.PutUint64(text, hexTextWord(w0))
		binary.LittleEndian.PutUint64(text[8:], hexTextWord(w1))
		return b
	}
	copy(p[n:], blank)
	hex := p[n+2 : n+2+47]
	var hi byte
	for i, c := range row {
		hex[3*i], hex[3*i+1] = hexPairs[2*int(c)], hexPairs[2*int(c)+1]
		text[i] = hexText[c&0x7f]
		hi |= c
	}
	if hi >= 0x80 {
		return appendHexTextUTF8(b[:start+n+len(blank)], row)
	}
	return b
}

// appendOffset writes off in hex into p, right-aligned, zero-padded. Eight
// digits (an offset below 4 GiB) are made at once: each nibble spread into
// a byte of its own, the bytes put most significant first, and each turned
// into its digit.
func appendOffset(p []byte, off int) {
	if len(p) == 8 && off >= 0 && uint64(off) < 1<<32 {
		x := uint64(off)
		x = (x | x<<16) & 0x0000ffff0000ffff
		x = (x | x<<8) & 0x00ff00ff00ff00ff
		x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
		binary.LittleEndian.PutUint64(p, hexDigits(bits.ReverseBytes64(x)))
		return
	}
	const digits = "0123456789abcdef"
	for i, x := len(p)-1, off; i >= 0; i, x = i-1, x>>4 {
		p[i] = digits[x&15]
	}
}

// hexDigits turns each byte of x, a value from 0 to 15, into its hex digit:
// '0' plus the value, plus 39 more ('a'-'0'-10) from 10 on, where adding 6
// carries into the byte's bit 4.
func hexDigits(x uint64) uint64 {
	return x + ones*'0' + (x+ones*6)>>4&ones*('a'-'0'-10)
}

// hexCells holds each byte's cell of the dump as a little-endian uint32:
// its two hex digits and two spaces.
var hexCells = func() (t [256]uint32) {
	for c := range t {
		t[c] = uint32(hexPairs[2*c]) | uint32(hexPairs[2*c+1])<<8 | ' '<<16 | ' '<<24
	}
	return t
}()

// hexTextWord is the text column of eight ASCII bytes (no top bit set):
// each byte from space to '~' as it is, any other '.'.
func hexTextWord(w uint64) uint64 {
	shown := ((w + ones*0x60) &^ (w + ones*0x01) & high) >> 7 * 0xff
	return w&shown | ones*'.'&^shown
}

// hexPairs holds each byte's two hex digits, at twice its value.
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// hexText is the text column's character for an ASCII byte: the byte, or
// '.' for a control byte (newline and tab too).
const hexText = "................................" +
	" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~."

// appendHexTextUTF8 is the text column of a row that is not ASCII. It
// gives what printable of the row read as UTF-8 gave (newline and tab
// made '.', a byte that is not UTF-8 read as U+FFFD): one '.' per byte of
// each character's UTF-8 form, as printable shows no byte above 0x7e, so
// three for a byte that is not UTF-8.
func appendHexTextUTF8(b, row []byte) []byte {
	for i := 0; i < len(row); {
		c := row[i]
		if c < utf8.RuneSelf {
			b = append(b, hexText[c])
			i++
			continue
		}
		r, w := utf8.DecodeRune(row[i:])
		n := w
		if r == utf8.RuneError && w == 1 {
			n = len(string(utf8.RuneError))
		}
		b = append(b, "...."[:n]...)
		i += w
	}
	return b
}

func (v *hexView) Finish(s *session.Session) error {
	return writeErr(footer(v.w, s, v.th))
}
