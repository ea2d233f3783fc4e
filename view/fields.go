package view

import (
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/explain"
)

// fieldRow is one line of the field view: a layer's title, one of its
// fields, or the payload. from/to are the frame bytes it covers (lit in the
// hex pane by Enter); from < 0 when they are not in this frame (a header
// rebuilt from IP fragments).
type fieldRow struct {
	title    bool
	key      string // the field's (or layer's) stable name
	cells    [nCols]string
	from, to int
	warn     bool
}

// The columns of the field view, as tcpscope decode prints them.
const (
	colOffset = iota
	colWidth
	colRaw
	colName
	colValue // the host value: "ntohl(4a dc c5 10) = 1255982352", never dropped
	colNoNtoh
	colMeaning
	nCols
)

var colHeads = [nCols]string{"offset", "width", "wire bytes", "field", "host value", "no ntoh", "meaning"}

// dropOrder is the order columns leave a pane too narrow for all of them:
// from the right, meaning first; the host value, with its ntohs/ntohl, and
// the field's name and offset stay.
var dropOrder = []int{colMeaning, colNoNtoh, colWidth, colRaw}

// rawMax is the most bytes of a field's raw column shown (an IPv6 address
// or a SACK option is longer; the hex pane shows them all).
const rawMax = 4

// fieldRows turns an explanation into the rows of the field view.
func fieldRows(e *explain.Explanation) []fieldRow {
	var rows []fieldRow
	for _, ly := range e.Layers {
		r := fieldRow{title: true, from: ly.Offset, to: ly.Offset + ly.Length}
		r.cells[colName] = ly.Name
		r.key = ly.Key
		if ly.Base != "frame" {
			r.cells[colName] += " (" + ly.Base + ")"
			r.from = -1
		}
		rows = append(rows, r)
		for _, f := range ly.Fields {
			rows = append(rows, fieldOf(f, ly.Base == "frame"))
		}
	}
	if p := e.Payload; p != nil && p.Captured > 0 {
		r := fieldRow{title: true, from: p.Offset, to: p.Offset + p.Captured}
		r.cells[colName] = "Payload · " + strconv.Itoa(p.Length) + " bytes"
		r.key = "payload"
		if p.Base != "frame" {
			r.from = -1
		}
		rows = append(rows, r)
	}
	return rows
}

func fieldOf(f explain.Field, inFrame bool) fieldRow {
	r := fieldRow{from: -1, key: f.Key}
	if inFrame && !f.Missing {
		r.from = f.Offset
		r.to = f.Offset + (f.BitOffset+f.Bits+7)/8
	}
	off := strconv.Itoa(f.Offset)
	if f.BitOffset != 0 || f.Bits%8 != 0 {
		off += "." + strconv.Itoa(f.BitOffset)
	}
	r.cells[colOffset] = off
	switch {
	case f.Bits == 1:
		r.cells[colWidth] = "1 bit"
	case f.Bits%8 != 0:
		r.cells[colWidth] = strconv.Itoa(f.Bits) + " bits"
	case f.Bits == 8:
		r.cells[colWidth] = "1 byte"
	case f.Bits > 0:
		r.cells[colWidth] = strconv.Itoa(f.Bits/8) + " bytes"
	}
	raw := strings.Fields(f.Raw)
	if len(raw) > rawMax {
		raw = append(raw[:rawMax], "…")
	}
	r.cells[colRaw] = strings.Join(raw, " ")
	r.cells[colName] = strings.Repeat("  ", f.Depth) + f.Name
	switch {
	case f.Missing:
		r.cells[colValue] = "(not captured)"
		r.warn = true
	case f.Conversion != "":
		r.cells[colValue] = f.Conversion
	case f.Text != "":
		r.cells[colValue] = f.Text
	case f.Value != nil:
		r.cells[colValue] = strconv.FormatUint(*f.Value, 10)
	}
	if strings.HasPrefix(f.Key, "tcp.opt.") && f.Depth == 1 && f.Value != nil {
		r.cells[colValue] = "kind " + strconv.FormatUint(*f.Value, 10)
	}
	if f.Unconverted != nil {
		r.cells[colNoNtoh] = strconv.FormatUint(*f.Unconverted, 10)
	}
	r.cells[colMeaning] = f.Meaning
	if strings.HasPrefix(f.Meaning, "bad") {
		r.warn = true
	}
	return r
}

// fitColumns decides which columns the field view shows in width cells and
// how wide each is: all that fit, dropping them in dropOrder. The last
// column shown is cut at the pane's edge.
func fitColumns(rows []fieldRow, width int) (show [nCols]bool, wd [nCols]int) {
	for i := range show {
		show[i] = true
		wd[i] = textWidth(colHeads[i])
	}
	for _, r := range rows {
		if r.title {
			continue
		}
		for i, c := range r.cells {
			wd[i] = max(wd[i], textWidth(c))
		}
	}
	total := func() int {
		t := 1
		for i := range show {
			if show[i] {
				t += wd[i] + 2
			}
		}
		return t - 2
	}
	for _, c := range dropOrder {
		// meaning may be cut rather than dropped when a good part fits
		if c == colMeaning && total()-wd[colMeaning]+24 <= width {
			break
		}
		if total() <= width {
			break
		}
		show[c] = false
	}
	return show, wd
}
