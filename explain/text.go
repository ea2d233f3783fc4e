package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/render"
)

// DefaultMaxPayload is how many payload bytes the text view dumps unless
// told otherwise: enough for a request line and headers, short enough to
// stay on a projected screen.
const DefaultMaxPayload = 256

// TextOptions tunes the text rendering.
type TextOptions struct {
	Theme render.Theme
	// MaxPayload limits the hex dump: 0 means DefaultMaxPayload, a negative
	// number means no limit.
	MaxPayload int
}

// Write explains one packet as text, with this host's byte order: the
// one-call form for commands (tcpscope decode; replay --explain).
func Write(w io.Writer, th render.Theme, m Meta, p *decode.Packet) error {
	return WriteText(w, Build(m, p, nil), TextOptions{Theme: th})
}

// WriteJSON writes e as one line of JSON. The JSON holds the same data as
// the text, under the key names documented on Explanation, Layer and Field.
func WriteJSON(w io.Writer, e *Explanation) error {
	return json.NewEncoder(w).Encode(e)
}

// byteOrderNote tells the audience why the "no ntoh" column exists.
func byteOrderNote(order string) string {
	if order == "little-endian" {
		return "This host is little-endian: it stores the least significant byte first, the reverse of network order.\n" +
			"The \"no ntoh\" column is what a program reading the field straight from memory, without ntohs/ntohl, would get."
	}
	return "This host is big-endian, like network order: ntohs/ntohl change nothing here, but a portable program still calls them.\n" +
		"The \"no ntoh\" column (what a program would read without them) therefore equals the value."
}

// WriteText renders e for people: a heading, then per header a table of
// fields and the RFC-style diagram, then the payload as hex and ASCII.
func WriteText(w io.Writer, e *Explanation, o TextOptions) error {
	th := o.Theme
	var b strings.Builder
	head := fmt.Sprintf("Frame %d", e.Frame)
	if e.Stream != nil {
		head += fmt.Sprintf(" · stream %d", *e.Stream)
	}
	head += fmt.Sprintf(" · %d of %d bytes captured · %s", e.CapLen, e.OrigLen, e.LinkType)
	b.WriteString(th.Bold(head) + "\n")
	b.WriteString(th.Addr(e.Summary) + "\n")
	b.WriteString(th.Dim(byteOrderNote(e.HostOrder)) + "\n")
	for _, p := range e.Problems {
		b.WriteString(th.Warn("! "+p) + "\n")
	}
	for i := range e.Layers {
		b.WriteByte('\n')
		writeLayer(&b, th, &e.Layers[i])
	}
	if e.Payload != nil {
		b.WriteByte('\n')
		writePayload(&b, th, e.Payload, o.MaxPayload)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const rawChunk = 8 // raw bytes per line in the table

func writeLayer(b *strings.Builder, th render.Theme, ly *Layer) {
	where := "frame"
	if ly.Base != "frame" {
		where = ly.Base
	}
	fmt.Fprintf(b, "%s\n", th.Bold(fmt.Sprintf("%s · %s bytes %d–%d (%d bytes)", ly.Name, where, ly.Offset, ly.Offset+ly.Length-1, ly.Length)))
	if len(ly.Fields) == 0 {
		return
	}
	hdr := []string{"offset", "width", "raw (network order)", "field", "host value", "no ntoh", "meaning"}
	rows := make([][]string, 0, len(ly.Fields))
	for _, f := range ly.Fields {
		rows = append(rows, fieldCells(f))
	}
	wd := make([]int, len(hdr))
	for i, h := range hdr {
		wd[i] = runeLen(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i == 2 {
				c = firstChunk(c)
			}
			wd[i] = max(wd[i], runeLen(c))
		}
	}
	line := func(cols []string, paint func(i int, s string) string) {
		var l strings.Builder
		l.WriteString("  ")
		for i, c := range cols {
			if i == len(cols)-1 {
				l.WriteString(paint(i, c))
				break
			}
			pad := strings.Repeat(" ", wd[i]-runeLen(c))
			if i == 0 {
				l.WriteString(pad + paint(i, c)) // offsets right-aligned
			} else {
				l.WriteString(paint(i, c) + pad)
			}
			l.WriteString("  ")
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(hdr, func(_ int, s string) string { return th.Dim(s) })
	for k, r := range rows {
		f := ly.Fields[k]
		raw := chunks(r[2])
		cols := append([]string{}, r...)
		cols[2] = raw[0]
		line(cols, func(i int, s string) string {
			switch {
			case s == "":
				return s
			case i == 2:
				return th.Dim(s)
			case i == 4 && f.Missing:
				return th.Warn(s)
			case i == 5:
				return th.Note(s)
			case i == 6 && (strings.HasPrefix(s, "bad") || strings.HasPrefix(f.Key, "tcp.opt.malformed")):
				return th.Warn(s)
			}
			return s
		})
		for _, more := range raw[1:] {
			line([]string{"", "", more, "", "", "", ""}, func(_ int, s string) string { return th.Dim(s) })
		}
	}
	if len(ly.Diagram) > 0 {
		b.WriteByte('\n')
		for _, d := range ly.Diagram {
			b.WriteString("  " + d + "\n")
		}
	}
}

// fieldCells formats one field as table columns.
func fieldCells(f Field) []string {
	off := strconv.Itoa(f.Offset)
	if f.BitOffset != 0 || f.Bits%8 != 0 {
		off += "." + strconv.Itoa(f.BitOffset) // byte.bit
	}
	width := ""
	switch {
	case f.Bits == 1:
		width = "1 bit"
	case f.Bits%8 != 0:
		width = fmt.Sprintf("%d bits", f.Bits)
	case f.Bits == 8:
		width = "1 byte"
	case f.Bits > 0:
		width = fmt.Sprintf("%d bytes", f.Bits/8)
	}
	value := ""
	switch {
	case f.Missing:
		value = "(not captured)"
	case f.Conversion != "":
		value = f.Conversion
	case f.Text != "":
		value = f.Text
	case f.Value != nil:
		value = strconv.FormatUint(*f.Value, 10)
	}
	if strings.HasPrefix(f.Key, "tcp.opt.") && f.Depth == 1 && f.Value != nil {
		value = "kind " + strconv.FormatUint(*f.Value, 10)
	}
	un := ""
	if f.Unconverted != nil {
		un = strconv.FormatUint(*f.Unconverted, 10)
	}
	name := strings.Repeat("  ", f.Depth) + f.Name
	return []string{off, width, f.Raw, name, value, un, f.Meaning}
}

func firstChunk(raw string) string { return chunks(raw)[0] }

// chunks splits a hex string ("aa bb cc …") into lines of rawChunk bytes.
func chunks(raw string) []string {
	bs := strings.Fields(raw)
	if len(bs) <= rawChunk {
		return []string{raw}
	}
	var out []string
	for i := 0; i < len(bs); i += rawChunk {
		out = append(out, strings.Join(bs[i:min(i+rawChunk, len(bs))], " "))
	}
	return out
}

func runeLen(s string) int { return len([]rune(s)) }

// writePayload dumps the payload 16 bytes a line: frame offset in hex (as
// Wireshark's bytes pane), the bytes, and their printable ASCII.
func writePayload(b *strings.Builder, th render.Theme, p *Payload, limit int) {
	if limit == 0 {
		limit = DefaultMaxPayload
	}
	where := "frame"
	if p.Base != "frame" {
		where = p.Base
	}
	if p.Length == 0 && p.Captured == 0 {
		b.WriteString(th.Bold("No payload: a segment of header only") + "\n")
		return
	}
	title := fmt.Sprintf("Payload · %d bytes at %s offset %d (0x%04x)", p.Length, where, p.Offset, p.Offset)
	if p.Captured < p.Length {
		title += fmt.Sprintf(", %d captured", p.Captured)
	}
	b.WriteString(th.Bold(title) + "\n")
	data := p.ascii
	if limit > 0 && len(data) > limit {
		data = data[:limit]
	}
	for i := 0; i < len(data); i += 16 {
		row := data[i:min(i+16, len(data))]
		var hx, asc strings.Builder
		for j := 0; j < 16; j++ {
			if j == 8 {
				hx.WriteByte(' ')
			}
			if j < len(row) {
				fmt.Fprintf(&hx, "%02x ", row[j])
				c := row[j]
				if c < 0x20 || c > 0x7e {
					c = '.'
				}
				asc.WriteByte(c)
			} else {
				hx.WriteString("   ")
			}
		}
		fmt.Fprintf(b, "  %s  %s |%s|\n", th.Dim(fmt.Sprintf("%04x", p.Offset+i)), hx.String(), asc.String())
	}
	if len(data) < len(p.ascii) {
		b.WriteString(th.Dim(fmt.Sprintf("  … %d more bytes (--payload-bytes -1 shows all; --json holds them all)", len(p.ascii)-len(data))) + "\n")
	}
}
