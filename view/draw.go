package view

import (
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/render"
)

// styles are the looks of the view's parts. Without colour only
// attributes remain: the selection and the lit bytes are in reverse video.
type styles struct {
	normal, dim, bold, title, sel, lit, flags, warn, call tcell.Style
	sev                                                   [4]tcell.Style // analysis.Severity chat … error
}

func newStyles(color bool) styles {
	n := tcell.StyleDefault
	st := styles{normal: n, dim: n.Dim(true), bold: n.Bold(true), title: n.Bold(true).Underline(true),
		sel: n.Reverse(true), lit: n.Reverse(true), flags: n.Bold(true), warn: n.Bold(true), call: n.Italic(true)}
	st.sev = [4]tcell.Style{n, n, n.Bold(true), n.Bold(true)}
	if color {
		st.lit = n.Background(tcell.ColorYellow).Foreground(tcell.ColorBlack)
		st.flags = n.Foreground(tcell.ColorPurple).Bold(true)
		st.warn = n.Foreground(tcell.ColorMaroon)
		st.call = n.Foreground(tcell.ColorNavy)
		st.sev = [4]tcell.Style{n.Foreground(tcell.ColorGreen), n.Foreground(tcell.ColorOlive),
			n.Foreground(tcell.ColorMaroon), n.Foreground(tcell.ColorMaroon).Bold(true)}
	}
	return st
}

func (st *styles) severity(s analysis.Severity) tcell.Style {
	switch s {
	case analysis.SeverityChat:
		return st.sev[0]
	case analysis.SeverityNote:
		return st.sev[1]
	case analysis.SeverityWarn:
		return st.sev[2]
	case analysis.SeverityError:
		return st.sev[3]
	}
	return st.normal
}

func textWidth(s string) int { return runewidth.StringWidth(s) }

// put writes s at (x, y) in style st, not past x+w; it returns the column
// after the text.
func (v *view) put(x, y, w int, s string, st tcell.Style) int {
	end := x + w
	for _, r := range s {
		rw := runewidth.RuneWidth(r)
		if rw == 0 {
			continue
		}
		if x+rw > end {
			break
		}
		v.s.SetContent(x, y, r, nil, st)
		x += rw
	}
	return x
}

// fill paints cells x..x+w-1 of row y blank in st.
func (v *view) fill(x, y, w int, st tcell.Style) {
	for i := 0; i < w; i++ {
		v.s.SetContent(x+i, y, ' ', nil, st)
	}
}

func (v *view) draw() {
	v.s.Clear()
	w, h := v.s.Size()
	v.list.refresh()
	if v.follow && v.list.Len() > 0 {
		v.sel = v.list.Len() - 1
	}
	body := h - 1
	if v.text != nil {
		v.text.draw(v, 0, 0, w, body)
		v.status(w, h-1)
		v.s.Show()
		return
	}
	v.listH = max(3, body*2/5)
	rest := body - v.listH
	v.hexH = max(1, (rest-2)*2/5)
	v.fieldsY = v.listH + 1
	v.fieldsH = rest - 2 - v.hexH
	v.hexY = v.fieldsY + v.fieldsH + 1
	v.moveTo(v.sel)
	v.load(v.selected())
	v.drawList(w)
	if v.ladder {
		v.drawLadder(v.listH, w, rest)
	} else {
		v.drawFields(w)
		v.drawHex(w)
	}
	v.status(w, h-1)
	v.s.Show()
}

// bar draws a pane's title line, bold and underlined when it has the focus.
func (v *view) bar(y, w int, text string, focus bool) {
	st := v.st.dim
	if focus {
		st = v.st.title
	}
	line := "── " + text + " "
	x := v.put(0, y, w, line, st)
	for ; x < w; x++ {
		v.s.SetContent(x, y, '─', nil, st)
	}
}

func (v *view) drawList(w int) {
	n := v.list.Len()
	start := v.idx.First()
	wide := w >= 140
	for row := 0; row < v.listH; row++ {
		i := v.top + row
		if i >= n {
			break
		}
		fn := v.list.At(i)
		if fn < 0 {
			v.drawCall(row, w, -fn-1, start, i == v.sel)
			continue
		}
		rec, ok := v.idx.Rec(fn)
		if !ok {
			continue
		}
		selected := i == v.sel
		v.drawRow(row, w, fn, &rec, start, wide, selected)
	}
	if n == 0 {
		msg := "no frames yet"
		if v.running != nil && !v.running.finished() {
			msg = "filtering…"
		} else if _, _, done, _ := v.idx.Progress(); done || v.filter != "" {
			msg = "no frame matches " + v.filterName()
		}
		v.put(2, 0, w-2, msg, v.st.dim)
	}
}

// drawCall draws a socket call among the frames, as the demo prints it:
// no frame number, its time, the side and the call.
func (v *view) drawCall(y, w, k int, start time.Time, selected bool) {
	cs := v.idx.Calls(k)
	if len(cs) == 0 {
		return
	}
	c := cs[0]
	st := v.st.call
	mark := " "
	if selected {
		mark = ">"
		st = v.st.sel
		v.fill(0, y, w, st)
	}
	x := v.put(0, y, w, mark+"       ", st)
	x = v.put(x, y, w-x, pad(render.RelTime(time.Unix(0, c.Time).UTC(), start), 10)+"  ", st)
	v.put(x, y, w-x, c.Line, st)
}

// drawRow draws one line of the packet list: replay's compact line.
func (v *view) drawRow(y, w, fn int, rec *Rec, start time.Time, wide, selected bool) {
	base := v.st.normal
	mark := " "
	if selected {
		mark = ">"
		if v.pane == paneList {
			base = v.st.sel
		} else {
			base = v.st.bold
		}
		v.fill(0, y, w, base)
	}
	style := func(s tcell.Style) tcell.Style {
		if selected {
			return base
		}
		return s
	}
	x := v.put(0, y, w, mark, base)
	head := "#" + strconv.Itoa(fn)
	x = v.put(x, y, w-x, pad(head, 7), style(v.st.dim))
	t := time.Unix(0, rec.Time).UTC()
	x = v.put(x, y, w-x, pad(render.RelTime(t, start), 10)+"  ", style(v.st.dim))
	note := v.idx.Note(fn)
	var p decode.Packet
	tcp := false
	if f, err := v.fr.Read(fn, rec.Off); err == nil {
		decode.DecodeWith(f, &p, decode.DecodeOptions{SkipChecksums: true})
		tcp = p.TCP != nil
	}
	if !tcp {
		st := v.st.dim
		if rec.Kind&kindProblem != 0 {
			st = v.st.warn
		}
		v.put(x, y, w-x, note, style(st))
		return
	}
	var addrs string
	if wide {
		addrs = p.SrcAddrPort().String() + " → " + p.DstAddrPort().String()
	} else {
		addrs = strconv.Itoa(int(p.TCP.SrcPort())) + " → " + strconv.Itoa(int(p.TCP.DstPort()))
	}
	x = v.put(x, y, w-x, addrs+"  ", base)
	x = v.put(x, y, w-x, "["+strings.Join(render.FlagNames(p.TCP.Flags()), ",")+"]", style(v.st.flags))
	nums := "  seq " + strconv.FormatUint(uint64(rec.Seq), 10)
	if p.TCP.Has(decode.FlagACK) {
		nums += " ack " + strconv.FormatUint(uint64(rec.Ack), 10)
	}
	nums += " len " + strconv.Itoa(p.PayloadLen)
	x = v.put(x, y, w-x, nums, base)
	if note != "" {
		x = v.put(x, y, w-x, "  ▸ ", base)
		v.put(x, y, w-x, note, style(v.st.severity(rec.Severity)))
	}
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func (v *view) drawFields(w int) {
	c := &v.cur
	title := "Fields"
	if c.n != 0 {
		title += " · frame " + strconv.Itoa(c.n)
		if c.label != "" {
			title += " · " + c.label
		}
	}
	v.bar(v.fieldsY-1, w, title, v.pane == paneFields)
	if c.n == 0 {
		if fn := v.list.At(v.sel); fn < 0 {
			if cs := v.idx.Calls(-fn - 1); len(cs) > 0 {
				v.put(2, v.fieldsY, w-2, "socket call: "+cs[0].Line, v.st.normal)
			}
		}
		return
	}
	if len(c.rows) == 0 {
		msg := v.idx.Note(c.n)
		if c.err != nil {
			msg = c.err.Error()
		}
		v.put(2, v.fieldsY, w-2, "no TCP header to take apart: "+msg, v.st.dim)
		return
	}
	show, wd := fitColumns(c.rows, w-2)
	// Header row, then the rows that fit, scrolled to the selected one.
	v.fieldCells(v.fieldsY, w, colHeads, show, wd, v.st.dim, v.st.dim, false)
	h := v.fieldsH - 1
	if v.fsel < v.ftop {
		v.ftop = v.fsel
	}
	if v.fsel >= v.ftop+h {
		v.ftop = v.fsel - h + 1
	}
	for row := 0; row < h; row++ {
		i := v.ftop + row
		if i >= len(c.rows) {
			break
		}
		r := &c.rows[i]
		y := v.fieldsY + 1 + row
		st := v.st.normal
		if i == v.fsel && v.pane == paneFields {
			st = v.st.sel
			v.fill(0, y, w, st)
		}
		mark := " "
		if i == v.lit {
			mark = "*"
		}
		v.put(0, y, 1, mark, st)
		if r.title {
			ts := v.st.bold
			if st == v.st.sel {
				ts = st.Bold(true)
			}
			v.put(1, y, w-1, r.cells[colName], ts)
			continue
		}
		val := st
		if r.warn && st != v.st.sel {
			val = v.st.warn
		}
		v.fieldCells(y, w, r.cells, show, wd, st, val, true)
	}
}

// fieldCells draws one row of the field table.
func (v *view) fieldCells(y, w int, cells [nCols]string, show [nCols]bool, wd [nCols]int, st, val tcell.Style, right bool) {
	x := 2
	for i, c := range cells {
		if !show[i] {
			continue
		}
		cs := st
		if i == colValue {
			cs = val
		}
		if i == colOffset && right {
			c = strings.Repeat(" ", max(0, wd[i]-textWidth(c))) + c
		}
		if x >= w {
			break
		}
		v.put(x, y, w-x, c, cs)
		x += wd[i] + 2
	}
}

// drawHex draws the frame's bytes, 16 a row with their ASCII, the lit
// field's bytes in the lit style (reverse video without colour).
func (v *view) drawHex(w int) {
	c := &v.cur
	title := "Bytes"
	from, to := -1, -1
	if c.n != 0 {
		title += " · " + strconv.Itoa(len(c.data)) + " captured"
		if v.lit >= 0 && v.lit < len(c.rows) {
			r := &c.rows[v.lit]
			name := strings.TrimSpace(r.cells[colName])
			if r.from >= 0 {
				from, to = r.from, min(r.to, len(c.data))
				title += " · lit: " + name + " (bytes " + strconv.Itoa(from) + "–" + strconv.Itoa(to-1) + ")"
			} else {
				title += " · " + name + ": not in this frame's bytes"
			}
		}
	}
	v.bar(v.hexY-1, w, title, v.pane == paneHex)
	lines := (len(c.data) + 15) / 16
	if from >= 0 && v.pane != paneHex {
		// Scroll to the lit bytes.
		first := from / 16
		if first < v.htop || (to-1)/16 >= v.htop+v.hexH {
			v.htop = first
		}
	}
	v.htop = max(0, min(v.htop, lines-v.hexH))
	for row := 0; row < v.hexH; row++ {
		line := v.htop + row
		if line >= lines {
			break
		}
		y := v.hexY + row
		off := line * 16
		x := v.put(0, y, w, strconv.FormatInt(int64(0x10000+off), 16)[1:]+"  ", v.st.dim)
		if off >= 0x10000 {
			x = v.put(0, y, w, strconv.FormatInt(int64(off), 16)+" ", v.st.dim)
		}
		for j := 0; j < 16; j++ {
			k := off + j
			if j == 8 {
				x = v.put(x, y, w-x, " ", v.st.normal)
			}
			if k >= len(c.data) {
				x = v.put(x, y, w-x, "   ", v.st.normal)
				continue
			}
			st := v.st.normal
			in := k >= from && k < to
			if in {
				st = v.st.lit
			}
			x = v.put(x, y, w-x, hex2(c.data[k]), st)
			sp := v.st.normal
			if in && k+1 < to && j != 15 && j != 7 {
				sp = v.st.lit // one lit run over a field's bytes
			}
			x = v.put(x, y, w-x, " ", sp)
		}
		x = v.put(x, y, w-x, " |", v.st.dim)
		for j := 0; j < 16 && off+j < len(c.data); j++ {
			k := off + j
			b := c.data[k]
			if b < 0x20 || b > 0x7e {
				b = '.'
			}
			st := v.st.normal
			if k >= from && k < to {
				st = v.st.lit
			}
			x = v.put(x, y, w-x, string(rune(b)), st)
		}
		v.put(x, y, w-x, "|", v.st.dim)
	}
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// status draws the bottom line: the prompt while one is open, else where
// the selection is, what is shown, indexing progress and key hints.
func (v *view) status(w, y int) {
	st := v.st.sel
	v.fill(0, y, w, st)
	if v.prompt != promptNone {
		label := map[int]string{promptGoto: ":", promptFilter: "filter: ", promptWrite: "save shown frames to: "}[v.prompt]
		x := v.put(0, y, w, label+string(v.input), st)
		v.s.ShowCursor(x, y)
		return
	}
	v.s.HideCursor()
	total := v.idx.Len()
	pos, size, done, err := v.idx.Progress()
	var b strings.Builder
	b.WriteString(" frame ")
	if n := v.selected(); n > 0 {
		b.WriteString(strconv.Itoa(n))
	} else {
		b.WriteString("-")
	}
	b.WriteString(" of ")
	b.WriteString(strconv.Itoa(total))
	if v.msg != "" {
		b.WriteString(" · " + v.msg) // first: it answers the last key
	}
	if done && v.o.Live {
		b.WriteString(" · capture stopped")
	}
	if !done {
		pct := 0
		if size > 0 {
			pct = int(pos * 100 / size)
		}
		if v.o.Live {
			b.WriteString(" · live")
		} else {
			b.WriteString(" · indexing " + strconv.Itoa(pct) + "%")
		}
	}
	if v.filter != "" {
		b.WriteString(" · " + v.filter + ": " + strconv.Itoa(v.list.Len()) + " shown")
		if v.running != nil && !v.running.finished() {
			b.WriteString(" (filtering…)")
		}
	}
	if err != nil && !v.o.Live {
		b.WriteString(" · " + err.Error())
	}
	left := b.String()
	hints := "?:help  q:quit "
	if w-textWidth(left) > 70 {
		hints = ":N go  /:filter  s:conn  r:ref  n/N:flag  l:ladder  f:follow  w:save  ?:help  q:quit "
	}
	x := v.put(0, y, w, left, st)
	if w-x > textWidth(hints)+2 {
		v.put(w-textWidth(hints), y, w, hints, st)
	}
}
