package view

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/explain"
	"github.com/tcpscope/tcpscope/frame"
)

// Options configures a view.
type Options struct {
	// Path is a plain pcap or pcapng file (Spool makes one from anything
	// replay reads); Name is what the status line calls it.
	Path, Name string
	// Color: colours on; off (--color never, NO_COLOR) the view uses
	// reverse video and bold only.
	Color bool
	// Screen, when set, is drawn on instead of the terminal, already
	// initialised (tests give a tcell simulation screen); Run finalises it.
	Screen tcell.Screen
	// Live: the file is still being written (capture --tui, demo --tui);
	// the list follows its newest line until the user moves up.
	Live bool
	// Filter compiles a display filter typed after '/'; nil leaves '/'
	// without a language (see filter.go).
	Filter FilterCompiler
}

// Panes the Tab key moves between.
const (
	paneList = iota
	paneFields
	paneHex
	nPanes
)

// modes of the input line.
const (
	promptNone = iota
	promptGoto
	promptFilter
	promptWrite
)

// view is the state of one run. It belongs to the screen's goroutine.
type view struct {
	o   Options
	s   tcell.Screen
	idx *Index
	fr  *Frames
	st  styles

	list   *rowList // frames shown: all, one connection, or a filter's
	sel    int      // selected row in list
	top    int      // first row on screen
	follow bool     // stay on the newest row (live, or G pressed)
	pane   int

	cur     current // the selected frame, decoded
	fkey    string  // the selected field's name, kept from frame to frame
	litKey  string  // the lit field's name, kept from frame to frame
	fsel    int     // selected field row
	ftop    int
	lit     int // field row whose bytes are lit; -1 none
	htop    int // first hex row shown
	ladder  bool
	text    *textPane // follow or help, over the panes; nil none
	prompt  int
	input   []rune
	msg     string // one-line message in the status line until the next key
	filter  string // the display filter shown in the status line
	running *filterRun

	listH, fieldsY, fieldsH, hexY, hexH int // layout of the last draw
}

// current is the selected frame, read again from the file and decoded.
type current struct {
	n     int
	rec   Rec
	data  []byte
	meta  frame.Meta
	pkt   decode.Packet
	err   error
	rows  []fieldRow
	label string
}

// Run shows the view until the user quits (q, Ctrl-C) or ctx ends. The
// terminal is restored whatever happens, a panic included.
func Run(ctx context.Context, o Options) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idx, err := Build(ctx, o.Path)
	if err != nil {
		return err
	}
	return run(ctx, o, idx)
}

// run shows the view of the frames idx indexes from o.Path.
func run(ctx context.Context, o Options, idx *Index) (err error) {
	// The index of a large capture is tens of megabytes that never shrink;
	// a soft limit makes the collector work harder rather than let the
	// heap double past it (issue 16: 150 MB at 1.35 M frames).
	old := debug.SetMemoryLimit(120 << 20)
	defer debug.SetMemoryLimit(old)
	fr, err := OpenFrames(o.Path)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Name, err)
	}
	defer fr.Close()
	s := o.Screen
	if s == nil {
		if s, err = tcell.NewScreen(); err != nil {
			return fmt.Errorf("view needs a terminal: %w", err)
		}
		if err := s.Init(); err != nil {
			return fmt.Errorf("view needs a terminal: %w", err)
		}
	}
	defer s.Fini()
	defer func() {
		if r := recover(); r != nil {
			s.Fini() // the terminal back before the stack trace
			panic(r)
		}
	}()
	s.EnableMouse()
	v := &view{o: o, s: s, idx: idx, fr: fr, st: newStyles(o.Color), lit: -1, follow: o.Live}
	v.list = allRows(idx)
	go v.wake(ctx)
	if err := v.loop(ctx); err != nil {
		return err
	}
	// A capture that could not be read to the end was shown up to the
	// fault (the status line said so); the command still reports it, as
	// replay does: one line after the screen is restored, a non-zero exit.
	if _, _, done, ierr := idx.Progress(); done && ierr != nil && !errors.Is(ierr, context.Canceled) && !o.Live {
		return ierr
	}
	return nil
}

// wake posts an event whenever the index grows (at most ten times a
// second) and when ctx ends, so the screen redraws without a key.
func (v *view) wake(ctx context.Context) {
	ch := v.idx.Changed()
	// Frames indexed between the first draw and the line above closed an
	// earlier channel, which nobody waited on; if the index then finished,
	// ch never closes. One redraw now shows them (CI once saw a view stay
	// at "no frames yet").
	v.s.PostEvent(tcell.NewEventInterrupt(nil))
	for {
		select {
		case <-ctx.Done():
			v.s.PostEvent(tcell.NewEventInterrupt(ctx.Err()))
			return
		case <-ch:
		}
		// The next channel is taken before the pause: frames added during
		// it close that one, and the next round wakes at once.
		ch = v.idx.Changed()
		v.s.PostEvent(tcell.NewEventInterrupt(nil))
		if _, _, done, _ := v.idx.Progress(); done {
			// Nothing more to index; still, a signal must end the view.
			<-ctx.Done()
			v.s.PostEvent(tcell.NewEventInterrupt(ctx.Err()))
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errQuit = errors.New("quit")

// ErrInterrupted is Run's error when the user quit with Ctrl-C (exit 130,
// as every tcpscope command stopped by Ctrl-C), rather than q.
var ErrInterrupted = errors.New("interrupted")

func (v *view) loop(ctx context.Context) error {
	v.draw()
	for {
		ev := v.s.PollEvent()
		if ev == nil {
			return nil
		}
		switch e := ev.(type) {
		case *tcell.EventResize:
			v.s.Sync()
		case *tcell.EventInterrupt:
			if err, ok := e.Data().(error); ok && err != nil {
				return nil // a signal: quit quietly, the caller says why
			}
		case *tcell.EventKey:
			v.msg = ""
			if err := v.key(e); err != nil {
				if errors.Is(err, errQuit) {
					if e.Key() == tcell.KeyCtrlC {
						return ErrInterrupted
					}
					return nil
				}
				return err
			}
		case *tcell.EventMouse:
			v.mouse(e)
		}
		if ctx.Err() != nil {
			return nil
		}
		v.draw()
	}
}

// selected returns the frame number on the selected row, 0 for none (or
// a socket call).
func (v *view) selected() int {
	if v.sel < 0 || v.sel >= v.list.Len() {
		return 0
	}
	return max(0, v.list.At(v.sel))
}

// load decodes frame n into v.cur (when it is not already there).
func (v *view) load(n int) {
	if n == v.cur.n {
		return
	}
	if n == 0 {
		v.cur = current{} // a socket call (demo --tui) has no fields
		return
	}
	v.cur = current{n: n}
	v.fsel, v.ftop, v.lit, v.htop = 0, 0, -1, 0
	rec, ok := v.idx.Rec(n)
	if !ok {
		return
	}
	v.cur.rec = rec
	f, err := v.fr.Read(n, rec.Off)
	if err != nil {
		v.cur.err = err
		return
	}
	v.cur.data = append(v.cur.data[:0], f.Data...)
	v.cur.meta = f.Meta
	f.Data = v.cur.data
	v.cur.err = decode.DecodeWith(f, &v.cur.pkt, decode.DecodeOptions{})
	m := explain.Meta{Frame: f, Stream: int(rec.Stream), DecodeErr: v.cur.err}
	switch {
	case rec.Kind&kindClient != 0:
		m.Sender = "client"
	case rec.Kind&kindServer != 0:
		m.Sender = "server"
	}
	if v.cur.pkt.TCP != nil || v.cur.pkt.TCPHeaderTruncated {
		e := explain.Build(m, &v.cur.pkt, nil)
		v.cur.rows = fieldRows(e)
		v.cur.label = e.Summary
	}
	// The field selected (and lit) on the last frame stays selected on
	// this one, so that stepping through packets shows one field change;
	// at first the TCP header is at the top.
	for i := range v.cur.rows {
		k := v.cur.rows[i].key
		if k == v.fkey || (v.fkey == "" && strings.HasPrefix(v.cur.rows[i].cells[colName], "TCP")) {
			v.fsel, v.ftop = i, i
		}
		if k == v.litKey {
			v.lit = i
		}
	}
}

// fieldChanged records the selected and lit fields by name.
func (v *view) fieldChanged() {
	v.fkey, v.litKey = "", ""
	if v.fsel >= 0 && v.fsel < len(v.cur.rows) {
		v.fkey = v.cur.rows[v.fsel].key
	}
	if v.lit >= 0 && v.lit < len(v.cur.rows) {
		v.litKey = v.cur.rows[v.lit].key
	}
}

// moveTo selects row i (clamped) and scrolls the list to show it.
func (v *view) moveTo(i int) {
	n := v.list.Len()
	if n == 0 {
		v.sel, v.top = 0, 0
		return
	}
	v.sel = max(0, min(i, n-1))
	v.follow = v.o.Live && v.sel == n-1
	h := max(v.listH, 1)
	if v.sel < v.top {
		v.top = v.sel
	}
	if v.sel >= v.top+h {
		v.top = v.sel - h + 1
	}
}

// gotoFrame selects frame n, or says why it cannot.
func (v *view) gotoFrame(n int) {
	total := v.idx.Len()
	_, _, done, _ := v.idx.Progress()
	switch {
	case n < 1:
		v.msg = "frames are numbered from 1"
		return
	case n > total && done:
		v.msg = "frame " + strconv.Itoa(n) + " does not exist: the capture has " + strconv.Itoa(total) + " frames"
		return
	case n > total:
		v.msg = "frame " + strconv.Itoa(n) + " is not indexed yet (" + strconv.Itoa(total) + " so far)"
		return
	}
	i, exact := v.list.Find(n)
	defer func() { v.top = max(0, v.sel-v.listH/2) }() // the frame gone to in the middle
	if !exact {
		v.msg = "frame " + strconv.Itoa(n) + " is not shown (" + v.filterName() + "); Esc shows every frame"
		if i >= v.list.Len() {
			i = v.list.Len() - 1
		}
	}
	v.moveTo(i)
}

func (v *view) filterName() string {
	if v.filter == "" {
		return "all frames"
	}
	return v.filter
}
