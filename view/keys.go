package view

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
)

// key handles one key press. Keys are those of less, vim and termshark.
func (v *view) key(e *tcell.EventKey) error {
	if e.Key() == tcell.KeyCtrlC {
		return errQuit
	}
	if v.prompt != promptNone {
		v.promptKey(e)
		return nil
	}
	if v.text != nil {
		if v.text.key(e) {
			v.text = nil
		}
		return nil
	}
	switch e.Key() {
	case tcell.KeyTab:
		v.pane = (v.pane + 1) % nPanes
		if v.ladder && v.pane != paneList {
			v.pane = paneList // the ladder takes no keys of its own
		}
		return nil
	case tcell.KeyBacktab:
		v.pane = (v.pane + nPanes - 1) % nPanes
		if v.ladder && v.pane != paneList {
			v.pane = paneList
		}
		return nil
	case tcell.KeyUp:
		v.step(-1)
	case tcell.KeyDown:
		v.step(1)
	case tcell.KeyPgUp:
		v.step(-v.pageSize())
	case tcell.KeyPgDn:
		v.step(v.pageSize())
	case tcell.KeyHome:
		v.step(-1 << 30)
	case tcell.KeyEnd:
		v.step(1 << 30)
	case tcell.KeyEnter:
		if v.pane == paneFields {
			v.lightField()
		} else if v.pane == paneList {
			v.pane = paneFields
		}
	case tcell.KeyEscape:
		v.clearFilter()
	case tcell.KeyRune:
		return v.runeKey(e.Rune())
	}
	return nil
}

func (v *view) runeKey(r rune) error {
	switch r {
	case 'q':
		return errQuit
	case 'j':
		v.step(1)
	case 'k':
		v.step(-1)
	case 'g':
		v.step(-1 << 30)
	case 'G':
		v.step(1 << 30)
		if v.pane == paneList {
			v.follow = v.o.Live
		}
	case ' ':
		v.step(v.pageSize())
	case 'b':
		v.step(-v.pageSize())
	case ':':
		v.openPrompt(promptGoto)
	case '/':
		v.openPrompt(promptFilter)
	case 'w':
		v.openPrompt(promptWrite)
	case 's':
		v.oneConnection()
	case 'l':
		v.ladder = !v.ladder
		if v.ladder {
			v.pane = paneList
		}
	case 'f':
		v.followStream()
	case 'r':
		v.jumpRef()
	case 'n':
		v.nextFlagged(1)
	case 'N':
		v.nextFlagged(-1)
	case '?', 'h':
		v.text = helpPane()
	}
	return nil
}

// pageSize is how far PgUp/PgDn move in the focused pane.
func (v *view) pageSize() int {
	switch v.pane {
	case paneFields:
		return max(1, v.fieldsH-2)
	case paneHex:
		return max(1, v.hexH-1)
	}
	return max(1, v.listH-1)
}

// step moves the focused pane's cursor by d rows.
func (v *view) step(d int) {
	switch v.pane {
	case paneList:
		v.moveTo(clampAdd(v.sel, d))
	case paneFields:
		v.fsel = max(0, min(clampAdd(v.fsel, d), len(v.cur.rows)-1))
		v.fieldChanged()
	case paneHex:
		v.htop = max(0, clampAdd(v.htop, d))
	}
}

func clampAdd(a, d int) int {
	s := a + d
	if d > 0 && s < a {
		return 1 << 30
	}
	return max(-1<<30, s)
}

// lightField lights the selected field's bytes in the hex pane (Enter).
func (v *view) lightField() {
	if v.fsel < len(v.cur.rows) {
		if v.lit == v.fsel {
			v.lit = -1
		} else {
			v.lit = v.fsel
		}
		v.fieldChanged()
	}
}

func (v *view) openPrompt(p int) {
	v.prompt, v.input = p, v.input[:0]
	if p == promptFilter && v.filter != "" && v.running != nil {
		v.input = []rune(v.filter)
	}
}

func (v *view) promptKey(e *tcell.EventKey) {
	switch e.Key() {
	case tcell.KeyEscape:
		v.prompt = promptNone
	case tcell.KeyEnter:
		p, in := v.prompt, strings.TrimSpace(string(v.input))
		v.prompt = promptNone
		switch p {
		case promptGoto:
			n, err := strconv.Atoi(strings.TrimPrefix(in, "#"))
			if err != nil {
				v.msg = "':" + in + "': give a frame number"
				return
			}
			v.pane = paneList
			v.gotoFrame(n)
		case promptFilter:
			if in == "" {
				v.clearFilter()
				return
			}
			v.applyFilter(in)
		case promptWrite:
			if in != "" {
				v.save(in)
			}
		}
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		if len(v.input) > 0 {
			v.input = v.input[:len(v.input)-1]
		} else {
			v.prompt = promptNone
		}
	case tcell.KeyRune:
		v.input = append(v.input, e.Rune())
	}
}

// oneConnection shows only the selected frame's connection (s); s again
// shows every frame.
func (v *view) oneConnection() {
	n := v.selected()
	rec, ok := v.idx.Rec(n)
	if v.filter != "" && strings.HasPrefix(v.filter, "tcp.stream == ") {
		v.clearFilter()
		return
	}
	if !ok || rec.Stream < 0 {
		v.msg = "the selected frame belongs to no TCP connection"
		return
	}
	s := rec.Stream
	v.stopFilter()
	v.list = predRows(v.idx, func(r *Rec) bool { return r.Stream == s })
	v.filter = "tcp.stream == " + strconv.Itoa(int(s))
	v.reselect(n)
}

// reselect selects frame n in a new list (or the nearest after it).
func (v *view) reselect(n int) {
	i, _ := v.list.Find(n)
	v.top = 0
	v.moveTo(i)
	v.top = max(0, v.sel-v.listH/2)
}

// clearFilter shows every frame again, keeping the selected one (Esc).
func (v *view) clearFilter() {
	if v.filter == "" {
		return
	}
	n := v.selected()
	v.stopFilter()
	v.filter = ""
	v.list = allRows(v.idx)
	if n > 0 {
		v.reselect(n)
	}
}

// jumpRef goes to the frame the selected one refers to (r).
func (v *view) jumpRef() {
	rec, ok := v.idx.Rec(v.selected())
	if !ok || rec.Ref == 0 {
		v.msg = "this frame refers to no other"
		return
	}
	what := "acknowledges data of"
	switch {
	case rec.Flags&(retransmissions) != 0:
		what = "repeats"
	case rec.Flags.Has(dupAck):
		what = "repeats the ACK of"
	}
	from := v.selected()
	v.pane = paneList
	v.gotoFrame(int(rec.Ref))
	if v.msg == "" {
		v.msg = "#" + strconv.Itoa(from) + " " + what + " #" + strconv.Itoa(int(rec.Ref))
	}
}

// nextFlagged goes to the next (dir 1) or previous (-1) shown frame with an
// analysis flag (n, N).
func (v *view) nextFlagged(dir int) {
	n := v.list.Len()
	for i := v.sel + dir; i >= 0 && i < n; i += dir {
		if rec, ok := v.idx.Rec(v.list.At(i)); ok && rec.Flags != 0 {
			v.pane = paneList
			v.moveTo(i)
			return
		}
	}
	if dir > 0 {
		v.msg = "no flagged frame after this one"
	} else {
		v.msg = "no flagged frame before this one"
	}
}

// mouse selects the clicked row of the list or of the field view; the
// wheel scrolls the pane under it.
func (v *view) mouse(e *tcell.EventMouse) {
	_, y := e.Position()
	if v.text != nil {
		switch e.Buttons() {
		case tcell.WheelUp:
			v.text.top = max(0, v.text.top-3)
		case tcell.WheelDown:
			v.text.top += 3
		}
		return
	}
	pane := paneList
	switch {
	case y < v.listH:
	case !v.ladder && y >= v.fieldsY && y < v.fieldsY+v.fieldsH:
		pane = paneFields
	case !v.ladder && y >= v.hexY:
		pane = paneHex
	default:
		return
	}
	switch e.Buttons() {
	case tcell.WheelUp:
		v.pane = pane
		v.step(-3)
	case tcell.WheelDown:
		v.pane = pane
		v.step(3)
	case tcell.Button1:
		v.pane = pane
		switch pane {
		case paneList:
			v.moveTo(v.top + y)
		case paneFields:
			if i := v.ftop + y - v.fieldsY - 1; i >= 0 && i < len(v.cur.rows) {
				v.fsel = i
				v.lit = i
				v.fieldChanged()
			}
		}
	}
}
