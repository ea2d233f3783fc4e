package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrQuit is returned by Stepper when the user asked to stop.
var ErrQuit = errors.New("quit")

// Shown is one rendered segment as the stepper keeps it.
type Shown struct {
	Frame  int    // frame number in the capture
	Stream int    // connection index; -1 when not analysed
	Text   string // the rendered lines, newline-terminated
	// Explain is the segment's field-by-field header view (tcpscope
	// decode's), shown under Text while the x key has it switched on;
	// "" when there is none.
	Explain string
	// Label, when set, begins the status line instead of "frame N/T,
	// stream S": the demo pages socket calls among the segments and
	// numbers its steps.
	Label string
}

// DefaultHistory is how many shown segments a Stepper keeps for going back:
// enough for any lecture, small enough (a few MB) for any capture.
const DefaultHistory = 10000

// Stepper shows segments one key press at a time, and lets the user go back
// over those already shown. It keeps the rendered text rather than
// re-reading the capture, because a capture read from a pipe cannot be
// rewound and the analyzer's verdicts depend on everything before.
//
// It reads keys from Keys (a terminal in raw mode: one byte per key) and
// draws on Out. With Rows > 0 it redraws the screen each step, history up to
// the current segment with a status line at the bottom; with Rows == 0 (Out
// is not a terminal) each new segment is written to Out once and the status
// line, and any segment gone back to, go to Status.
type Stepper struct {
	Keys   io.Reader
	Out    io.Writer
	Status io.Writer // used only when Rows == 0; nil means Out
	Rows   int       // screen height in lines; 0 = no redrawing
	Cols   int       // screen width, for wrapped lines; 0 = 80
	Total  int       // frames in the capture, for the status line; 0 = unknown
	Max    int       // segments kept for going back; 0 = DefaultHistory

	hist    []Shown
	pos     int // index in hist of the segment on display
	keys    chan key
	explain bool // x pressed: header views shown under the segments
}

type key struct {
	b   byte
	err error
}

// text is segment i as drawn: its lines, and its header view when x is on.
func (s *Stepper) text(i int) string {
	if s.explain && s.hist[i].Explain != "" {
		return s.hist[i].Text + s.hist[i].Explain
	}
	return s.hist[i].Text
}

// Key actions. Ctrl-C and Ctrl-D quit too: in raw mode the terminal sends
// them as bytes instead of signals. x (switching the header view) is
// handled in browse.
func action(b byte) (next, back, quit bool) {
	switch b {
	case '\r', '\n', ' ', 'n', 'j':
		return true, false, false
	case 'b', 'p', 'k':
		return false, true, false
	case 'q', 'Q', 3, 4:
		return false, false, true
	}
	return false, false, false
}

// Show displays seg and waits until the user asks for the next segment
// (nil), quits (ErrQuit), the keys end (ErrQuit) or ctx is done (ctx.Err()).
// Going back and forth over earlier segments happens inside this call.
func (s *Stepper) Show(ctx context.Context, seg Shown) error {
	max := s.Max
	if max <= 0 {
		max = DefaultHistory
	}
	if len(s.hist) >= max {
		drop := len(s.hist) - max + 1
		s.hist = append(s.hist[:0], s.hist[drop:]...)
	}
	s.hist = append(s.hist, seg)
	s.pos = len(s.hist) - 1
	if s.Rows == 0 {
		if _, err := io.WriteString(s.Out, seg.Text); err != nil {
			return err
		}
	}
	return s.browse(ctx, false)
}

// Finish tells the user the capture has ended and lets them go back over
// it until they press q (or Enter on the last segment).
func (s *Stepper) Finish(ctx context.Context) error {
	if len(s.hist) == 0 {
		return nil
	}
	err := s.browse(ctx, true)
	if errors.Is(err, ErrQuit) {
		return nil
	}
	return err
}

func (s *Stepper) browse(ctx context.Context, end bool) error {
	last := -1
	for {
		if s.pos != last {
			if err := s.draw(end); err != nil {
				return err
			}
			last = s.pos
		}
		b, err := s.key(ctx)
		if err != nil {
			return err
		}
		if b == 'x' || b == 'X' {
			s.explain = !s.explain
			if s.Rows == 0 && s.explain {
				// No redrawing: print the view once, under what is there.
				if _, err := io.WriteString(s.Out, "\r\x1b[K"+s.hist[s.pos].Explain); err != nil {
					return err
				}
			}
			last = -1 // redraw
			continue
		}
		next, back, quit := action(b)
		switch {
		case quit:
			return ErrQuit
		case next && s.pos < len(s.hist)-1:
			s.pos++
		case next:
			return nil
		case back && s.pos > 0:
			s.pos--
		}
	}
}

func (s *Stepper) key(ctx context.Context) (byte, error) {
	if s.keys == nil {
		// One reader for the stepper's life: a read blocked on a terminal
		// cannot be interrupted, so it must not be restarted per key.
		s.keys = make(chan key)
		go func(r io.Reader, ch chan<- key) {
			var b [1]byte
			for {
				n, err := r.Read(b[:])
				if n == 1 {
					ch <- key{b: b[0]}
				}
				if err != nil {
					ch <- key{err: err}
					return
				}
			}
		}(s.Keys, s.keys)
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case k := <-s.keys:
		if k.err != nil {
			return 0, ErrQuit // keys closed: nobody left to press them
		}
		return k.b, nil
	}
}

// StatusLine says where the user is and which keys do what.
func (s *Stepper) StatusLine(end bool) string {
	cur := s.hist[s.pos]
	var b strings.Builder
	if cur.Label != "" {
		b.WriteString(cur.Label)
	} else {
		fmt.Fprintf(&b, "frame %d", cur.Frame)
		if s.Total > 0 {
			fmt.Fprintf(&b, "/%d", s.Total)
		}
		if cur.Stream >= 0 {
			fmt.Fprintf(&b, ", stream %d", cur.Stream)
		}
	}
	if back := len(s.hist) - 1 - s.pos; back > 0 {
		fmt.Fprintf(&b, " (%d back)", back)
	}
	x := ""
	if cur.Explain != "" {
		x = ", x headers"
	}
	if end && s.pos == len(s.hist)-1 {
		b.WriteString(" — end of capture: b back" + x + ", q quit")
	} else {
		b.WriteString(" — Enter/space next, b back" + x + ", q quit")
	}
	return b.String()
}

func (s *Stepper) draw(end bool) error {
	status := s.StatusLine(end)
	if s.Rows == 0 {
		w := s.Status
		if w == nil {
			w = s.Out
		}
		text := ""
		if s.pos < len(s.hist)-1 {
			// Out already has this segment further up; show it again here.
			text = strings.TrimRight(s.text(s.pos), "\n") + "\n"
		}
		_, err := fmt.Fprintf(w, "\r\x1b[K%s%s", text, status)
		return err
	}
	// Fill the screen from the bottom up with the segments up to pos.
	cols := s.Cols
	if cols <= 0 {
		cols = 80
	}
	room := s.Rows - 1
	var blocks []string
	for i := s.pos; i >= 0 && room > 0; i-- {
		lines := strings.Split(strings.TrimRight(s.text(i), "\n"), "\n")
		for j := len(lines) - 1; j >= 0 && room > 0; j-- {
			room -= screenRows(lines[j], cols)
			if room >= 0 {
				blocks = append(blocks, lines[j])
			}
		}
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	for i := len(blocks) - 1; i >= 0; i-- {
		b.WriteString(blocks[i])
		b.WriteString("\n")
	}
	b.WriteString("\x1b[7m" + status + "\x1b[0m")
	_, err := io.WriteString(s.Out, b.String())
	return err
}

// screenRows is how many terminal rows line takes at width cols, not
// counting colour escape sequences.
func screenRows(line string, cols int) int {
	n := 0
	for i := 0; i < len(line); {
		if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			i = j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
		n++
	}
	if n == 0 {
		return 1
	}
	return (n + cols - 1) / cols
}

// Leave moves past the status line, so that what is written next (the
// summary) starts on a line of its own.
func (s *Stepper) Leave() {
	if len(s.hist) == 0 {
		return
	}
	if s.Rows > 0 {
		io.WriteString(s.Out, "\n")
		return
	}
	w := s.Status
	if w == nil {
		w = s.Out
	}
	io.WriteString(w, "\r\x1b[K")
}

// CRLF translates "\n" into "\r\n" on its way to W. A terminal in raw mode
// does not do it itself, and without it each line would start where the
// previous one ended.
type CRLF struct{ W io.Writer }

func (c CRLF) Write(p []byte) (int, error) {
	if !strings.ContainsRune(string(p), '\n') {
		return c.W.Write(p)
	}
	out := strings.ReplaceAll(strings.ReplaceAll(string(p), "\r\n", "\n"), "\n", "\r\n")
	if _, err := io.WriteString(c.W, out); err != nil {
		return 0, err
	}
	return len(p), nil
}
