package follow

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// appendPrintable appends printable(b) to dst, copying runs of plain bytes
// at once (a followed stream can be gigabytes).
func appendPrintable(dst, b []byte) []byte {
	run := 0 // start of the current run of bytes kept as they are
	for i, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			continue
		}
		dst = append(dst, b[run:i]...)
		run = i + 1
		if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue // the CR of CRLF is dropped
		}
		dst = append(dst, '.')
	}
	return append(dst, b[run:]...)
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
	return &textView{w: w, th: th}
}

type textView struct {
	w     io.Writer
	th    render.Theme
	last  int
	begun bool
	buf   []byte
}

func (v *textView) Chunk(s *session.Session, c session.Chunk) error {
	if !v.begun {
		v.begun, v.last = true, -1
	}
	roles := s.Roles()
	var b strings.Builder
	if c.Dir != v.last {
		if v.last >= 0 {
			b.WriteString("\n")
		}
		b.WriteString(dirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	if len(c.Data) > 0 {
		v.buf = appendPrintable(v.buf[:0], c.Data)
		b.WriteString(paintDir(v.th, roles, c.Dir, string(v.buf)))
	}
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)))
	}
	_, err := io.WriteString(v.w, b.String())
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
	return &hexView{w: w, th: th}
}

type hexView struct {
	w    io.Writer
	th   render.Theme
	off  [2]int
	last int
	seen bool
}

func (v *hexView) Chunk(s *session.Session, c session.Chunk) error {
	if !v.seen {
		v.seen, v.last = true, -1
	}
	roles := s.Roles()
	var b strings.Builder
	if c.Dir != v.last {
		b.WriteString(dirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	var line []byte
	for i := 0; i < len(c.Data); i += 16 {
		line = hexLine(line[:0], v.off[c.Dir]+i, c.Data[i:min(i+16, len(c.Data))])
		b.WriteString(paintDir(v.th, roles, c.Dir, string(line)) + "\n")
	}
	v.off[c.Dir] += len(c.Data) + c.Missing + c.Uncaptured
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)) + "\n")
	}
	_, err := io.WriteString(v.w, b.String())
	return writeErr(err)
}

// hexLine appends one row of the dump: the offset in 8 hex digits, the
// bytes in hex, and the same bytes as text (what fmt's "%08x  %-47s  %s"
// with "% x" gave, written out: a long stream has millions of rows).
func hexLine(b []byte, off int, row []byte) []byte {
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
			// Not ASCII: as printable shows a UTF-8 reading of it.
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

func (v *hexView) Finish(s *session.Session) error {
	return writeErr(footer(v.w, s, v.th))
}
