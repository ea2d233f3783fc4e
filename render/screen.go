package render

import (
	"bytes"
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// ASCIIGlyphs replaces the few non-ASCII characters tcpscope prints (→ ▸ µ …,
// and the rarer – — × ≠ ≥ ≤ § ═ ─ of notes, --explain and rules) with ASCII
// spellings, for --ascii and terminals whose locale is not UTF-8.
var ASCIIGlyphs = strings.NewReplacer("→", "->", "▸", ">", "µ", "u", "…", "...", "←", "<-", "·", "-",
	"–", "-", "—", "--", "×", "x", "≠", "!=", "≥", ">=", "≤", "<=", "§", "section ", "═", "=", "─", "-")

// Width is the number of terminal columns s takes: grapheme clusters
// counted by their East Asian width (uniseg), so → ▸ µ count one each, and
// colour escape sequences (ESC [ … m) count nothing.
func Width(s string) int {
	if strings.IndexByte(s, 0x1b) < 0 {
		return uniseg.StringWidth(s)
	}
	n := 0
	for s != "" {
		i := strings.IndexByte(s, 0x1b)
		if i < 0 {
			return n + uniseg.StringWidth(s)
		}
		n += uniseg.StringWidth(s[:i])
		s = s[i+escLen(s[i:]):]
	}
	return n
}

// escLen is the length of the escape sequence at the start of s: a CSI
// sequence (ESC [ parameters final-byte), or ESC alone.
func escLen(s string) int {
	if len(s) < 2 || s[1] != '[' {
		return 1
	}
	for i := 2; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
	}
	return len(s)
}

// Wrap breaks line (one line, no newline) into lines of at most width
// columns, at spaces, and writes them to b, each ending in a newline.
// Continuation lines are indented by indent spaces. A word longer than a
// whole line is cut at the width. width <= 0 leaves the line as it is.
func Wrap(b []byte, line string, width, indent int) []byte {
	if width <= 0 || Width(line) <= width {
		return append(append(b, line...), '\n')
	}
	if indent > width/2 {
		indent = width / 2
	}
	col := 0
	start := true // at the start of an output line (after its indent)
	for line != "" {
		// The next word and the spaces before it.
		sp := 0
		for sp < len(line) && line[sp] == ' ' {
			sp++
		}
		end := wordEnd(line, sp)
		word := line[sp:end]
		line = line[end:]
		if word == "" {
			break // trailing spaces
		}
		ww := Width(word)
		if start && col == 0 {
			// First line: keep its leading spaces.
			b = append(b, strings.Repeat(" ", sp)...)
			col = sp
		} else if !start && col+sp+ww > width {
			b = append(b, '\n')
			b = append(b, strings.Repeat(" ", indent)...)
			col = indent
		} else if !start {
			b = append(b, strings.Repeat(" ", sp)...)
			col += sp
		}
		start = false
		for col+ww > width && col < width {
			// A word longer than the room left on a fresh line: cut it.
			head, rest := cutWidth(word, width-col)
			if head == "" {
				break
			}
			b = append(append(b, head...), '\n')
			b = append(b, strings.Repeat(" ", indent)...)
			col = indent
			word, ww = rest, Width(rest)
		}
		b = append(b, word...)
		col += ww
	}
	return append(b, '\n')
}

// wordEnd is where the word starting at i ends: at the next space, except
// that an arrow and the words on each side of it stay together
// ("CLOSED → SYN-SENT", "80 -> 55920"), so a line never ends in an arrow,
// and so does a state change with its side ("client: CLOSED → SYN-SENT").
func wordEnd(line string, i int) int {
	for {
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			return len(line)
		}
		j += i
		rest := line[j:]
		if w := line[:j]; (strings.HasSuffix(w, "client:") || strings.HasSuffix(w, "server:")) && len(rest) > 1 && rest[1] != ' ' {
			// "client: SYN-SENT → ESTABLISHED" stays whole too.
			i = j + 1
			continue
		}
		var arrow string
		for _, a := range []string{" → ", " -> "} {
			if strings.HasPrefix(rest, a) && len(rest) > len(a) && rest[len(a)] != ' ' {
				arrow = a
			}
		}
		if arrow == "" {
			return j
		}
		i = j + len(arrow)
	}
}

// cutWidth splits s after at most n columns (whole grapheme clusters,
// escape sequences kept with what follows them).
//
// A group kept together around an arrow (see wordEnd) is cut at its last
// space that fits instead, the space dropped.
func cutWidth(s string, n int) (string, string) {
	used, i, space := 0, 0, -1
	for i < len(s) {
		if s[i] == 0x1b {
			i += escLen(s[i:])
			continue
		}
		cl, _, w, _ := uniseg.FirstGraphemeClusterInString(s[i:], -1)
		if used+w > n {
			if space > 0 {
				return s[:space], s[space+1:]
			}
			break
		}
		if cl == " " {
			space = i
		}
		used += w
		i += len(cl)
	}
	return s[:i], s[i:]
}

// LineIndent is how far a wrapped line's continuations are indented: past
// its own leading spaces, and past a "▸ " or "> " that starts it, else four
// more, so the wrapped part reads as belonging to the line above.
func LineIndent(line string) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	rest := line[n:]
	if strings.HasPrefix(rest, "▸ ") || strings.HasPrefix(rest, "> ") {
		return n + 2
	}
	return n + 4
}

// Screen is a writer for a terminal: it writes each line so it fits Width
// columns (wrapping at spaces, continuations indented, see Wrap and
// LineIndent) and, with ASCII, spells → ▸ µ in ASCII. It works on whole
// lines: a partial line is kept until its newline (or Flush). A write
// holding a carriage return (a progress bar, a status line) passes through
// as it is.
type Screen struct {
	W     io.Writer
	Width int // columns; 0 = do not wrap
	ASCII bool
	part  []byte
	out   []byte
}

// Write implements io.Writer.
func (s *Screen) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\r') >= 0 {
		if err := s.Flush(); err != nil {
			return 0, err
		}
		q := p
		if s.ASCII {
			q = []byte(ASCIIGlyphs.Replace(string(p)))
		}
		if _, err := s.W.Write(q); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	s.part = append(s.part, p...)
	i := bytes.LastIndexByte(s.part, '\n')
	if i < 0 {
		return len(p), nil
	}
	s.out = s.out[:0]
	for _, line := range strings.Split(string(s.part[:i]), "\n") {
		s.out = s.fit(s.out, line)
	}
	s.part = append(s.part[:0], s.part[i+1:]...)
	if _, err := s.W.Write(s.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *Screen) fit(b []byte, line string) []byte {
	if s.ASCII {
		line = ASCIIGlyphs.Replace(line)
	}
	return Wrap(b, line, s.Width, LineIndent(line))
}

// Flush writes a partial line kept so far.
func (s *Screen) Flush() error {
	if len(s.part) == 0 {
		return nil
	}
	line := string(s.part)
	s.part = s.part[:0]
	b := s.fit(nil, line)
	_, err := s.W.Write(b[:len(b)-1])
	return err
}
