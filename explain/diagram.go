package explain

import (
	"fmt"
	"strings"
)

// cellAt is one box of a header diagram: bits [start, start+bits) of the
// header, labelled with the first text that fits (longest first).
type cellAt struct {
	start, bits int
	text        []string
}

const rowBits = 32

// diagram draws the header as RFC 791 and RFC 9293 do: 32-bit rows under a
// ruler numbering bits 0..31, one box per field, each box holding this
// packet's value. Each bit is two characters wide, so a box of n bits has
// 2n−1 characters of room; labels shrink to the bare value when the name
// does not fit. Fields more than one row tall (IPv6 addresses) have no
// dividing line between their rows.
func diagram(ly *Layer, extra []cellAt, legend string) []string {
	var cs []cellAt
	for _, f := range ly.Fields {
		if f.cell != nil {
			cs = append(cs, cellAt{start: (f.Offset-ly.Offset)*8 + f.BitOffset, bits: f.Bits, text: f.cell})
		}
	}
	cs = append(cs, extra...)
	end := 0
	for _, c := range cs {
		end = max(end, c.start+c.bits)
	}
	if end == 0 {
		return nil
	}
	rows := (end + rowBits - 1) / rowBits
	lines := []string{
		" 0                   1                   2                   3",
		" 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1",
		separator(cs, -1),
	}
	for r := 0; r < rows; r++ {
		line := []rune(strings.Repeat(" ", 2*rowBits+1))
		lo, hi := r*rowBits, (r+1)*rowBits
		for _, c := range cs {
			s, e := max(c.start, lo), min(c.start+c.bits, hi)
			if s >= e {
				continue
			}
			a, b := 2*(s-lo), 2*(e-lo)
			line[a], line[b] = '|', '|'
			if c.start < lo {
				continue // the label is in the cell's first row
			}
			t := []rune(fit(c.text, b-a-1))
			pad := (b - a - 1 - len(t)) / 2
			copy(line[a+1+pad:], t)
		}
		lines = append(lines, string(line))
		if r == rows-1 {
			lines = append(lines, separator(cs, -1))
		} else {
			lines = append(lines, separator(cs, r))
		}
	}
	if legend != "" {
		lines = append(lines, legend)
	}
	return lines
}

// separator draws the line under row r: dashes, except under a cell that
// continues into the next row. r = -1 draws a full line.
func separator(cs []cellAt, r int) string {
	line := []rune(strings.Repeat("+-", rowBits) + "+")
	if r < 0 {
		return string(line)
	}
	spans := func(bit int) bool { // bit of row r continues into row r+1
		a, b := r*rowBits+bit, (r+1)*rowBits+bit
		for _, c := range cs {
			if c.start <= a && b < c.start+c.bits {
				return true
			}
		}
		return false
	}
	for i := 0; i < rowBits; i++ {
		if spans(i) {
			line[2*i+1] = ' '
			if i > 0 && spans(i-1) {
				line[2*i] = ' '
			}
		}
	}
	return string(line)
}

// fit returns the first candidate no wider than w, or the last one cut
// short with an ellipsis.
func fit(cands []string, w int) string {
	for _, s := range cands {
		if len([]rune(s)) <= w {
			return s
		}
	}
	if w <= 0 || len(cands) == 0 {
		return ""
	}
	r := []rune(cands[len(cands)-1])
	if w == 1 {
		return "…"
	}
	return string(r[:w-1]) + "…"
}

// optionRows boxes an options area (IPv4 or TCP) one 32-bit row at a time,
// showing its bytes in hex; the field list explains them option by option.
func optionRows(opt []byte, startBit int) []cellAt {
	var cs []cellAt
	for i := 0; i < len(opt); i += 4 {
		chunk := opt[i:min(i+4, len(opt))]
		h := hexBytes(chunk)
		label := "Options " + h
		if i > 0 {
			label = fmt.Sprintf("(options) %s", h)
		}
		cs = append(cs, cellAt{start: startBit + 8*i, bits: 8 * len(chunk), text: []string{label, h}})
	}
	return cs
}
