package view

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/internal/safefile"
	"github.com/tcpscope/tcpscope/picture"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

const (
	retransmissions = analysis.Retransmission | analysis.FastRetransmission | analysis.SpuriousRetransmission
	dupAck          = analysis.DuplicateAck
)

// textPane is a page of text over the panes: the help, or a followed
// stream. j/k, arrows, PgUp/PgDn, g/G scroll; Esc or q closes it.
type textPane struct {
	title string
	lines []string
	top   int
}

func (t *textPane) key(e *tcell.EventKey) (closed bool) {
	switch e.Key() {
	case tcell.KeyEscape:
		return true
	case tcell.KeyUp:
		t.top--
	case tcell.KeyDown:
		t.top++
	case tcell.KeyPgUp:
		t.top -= 10
	case tcell.KeyPgDn:
		t.top += 10
	case tcell.KeyRune:
		switch e.Rune() {
		case 'q', '?', 'f', 'h':
			return true
		case 'j':
			t.top++
		case 'k':
			t.top--
		case ' ':
			t.top += 10
		case 'b':
			t.top -= 10
		case 'g':
			t.top = 0
		case 'G':
			t.top = len(t.lines)
		}
	}
	return false
}

func (t *textPane) draw(v *view, x, y, w, h int) {
	v.bar(y, w, t.title+" · Esc or q closes", true)
	t.top = max(0, min(t.top, len(t.lines)-(h-1)))
	for i := 0; i < h-1 && t.top+i < len(t.lines); i++ {
		v.put(x+1, y+1+i, w-1, t.lines[t.top+i], v.st.normal)
	}
}

func helpPane() *textPane {
	return &textPane{title: "Keys", lines: strings.Split(`↑ ↓ j k        previous / next row of the focused pane
PgUp PgDn b ␣  a page up / down
g G Home End   first / last
Tab Shift-Tab  next / previous pane: packets, fields, bytes
Enter          in the packets: go to the fields; on a field: light its bytes
:N Enter       go to frame N
/EXPR Enter    show only the frames a display filter matches (-Y's language)
Esc            show every frame again
s              only the selected frame's connection (s again: all)
r              go to the frame this one refers to: the original of a
               retransmission, the ACK a duplicate ACK repeats, the data an
               ACK acknowledges
n N            next / previous frame with an analysis flag
l              the ladder of the selected connection (on / off)
f              the connection's reassembled stream (follow)
w FILE Enter   save the frames shown to FILE (pcapng if it ends in .pcapng)
?              this help
q Ctrl-C       quit

The mouse selects rows and fields; the wheel scrolls.
The lit bytes are those of the field Enter was pressed on.`, "\n")}
}

// streamFrames lists the frames of connection s, at most limit of them
// around frame near (all when limit is 0), in order.
func (v *view) streamFrames(s int32, near, limit int) []int {
	var out []int
	v.idx.Each(1, v.idx.Len(), func(n int, r *Rec) bool {
		if r.Stream == s {
			out = append(out, n)
		}
		return true
	})
	if limit > 0 && len(out) > limit {
		i := 0
		for i < len(out) && out[i] < near {
			i++
		}
		lo := max(0, min(i-limit/2, len(out)-limit))
		out = out[lo : lo+limit]
	}
	return out
}

// followMax bounds the bytes f shows: a lecture needs the start of a
// stream, and a 1 GB transfer must not be held in memory.
const followMax = 1 << 20

// followStream shows the selected connection's reassembled bytes (f), as
// tcpscope follow does.
func (v *view) followStream() {
	rec, ok := v.idx.Rec(v.selected())
	if !ok || rec.Stream < 0 {
		v.msg = "the selected frame belongs to no TCP connection"
		return
	}
	fl := &session.Follower{}
	var ends [2]netip.AddrPort
	var p decode.Packet
	total := 0
	found := false
	for _, n := range v.streamFrames(rec.Stream, 0, 0) {
		r, _ := v.idx.Rec(n)
		f, err := v.fr.Read(n, r.Off)
		if err != nil || decode.DecodeWith(f, &p, decode.DecodeOptions{SkipChecksums: true}) != nil || p.TCP == nil {
			continue
		}
		if !found {
			ends, found = [2]netip.AddrPort{p.SrcAddrPort(), p.DstAddrPort()}, true
		}
		dir := 0
		if p.SrcAddrPort() != ends[0] {
			dir = 1
		}
		fl.Add(dir, n, f.Meta.Time, r.Seq, r.Ack, p.TCP.Has(decode.FlagACK), p.Payload, p.PayloadLen)
		total += len(p.Payload)
		if total > followMax {
			break
		}
	}
	t := &textPane{title: "Stream " + strconv.Itoa(int(rec.Stream)) + " · " + ends[0].String() + " ⇄ " + ends[1].String()}
	for _, c := range fl.Chunks() {
		who := ends[c.Dir].String() + " → " + ends[1-c.Dir].String()
		if c.Missing > 0 {
			t.lines = append(t.lines, "── #"+strconv.Itoa(c.Frame)+"  "+who+"  ["+strconv.Itoa(c.Missing)+" bytes missing from the capture]")
			continue
		}
		t.lines = append(t.lines, "── #"+strconv.Itoa(c.Frame)+"  "+who+"  "+strconv.Itoa(len(c.Data))+" bytes")
		for _, l := range strings.Split(strings.TrimSuffix(printable(c.Data), "\n"), "\n") {
			t.lines = append(t.lines, "   "+l)
		}
	}
	if len(t.lines) == 0 {
		t.lines = []string{"(no payload in this connection)"}
	}
	if total > followMax {
		t.lines = append(t.lines, "… the first "+strconv.Itoa(followMax)+" bytes; tcpscope follow shows all")
	}
	v.text = t
}

// printable shows bytes as text, other bytes as '.', as follow's ASCII.
func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == '\n' || c == '\t':
			s.WriteByte(c)
		case c == '\r':
		case c < 0x20 || c > 0x7e:
			s.WriteByte('.')
		default:
			s.WriteByte(c)
		}
	}
	return s.String()
}

// drawLadder draws the ladder of the selected frame's connection in the
// panes under the list: the segments around the selected one (the whole
// connection may be millions), the selected one's rows lit.
func (v *view) drawLadder(y, w, h int) {
	rec, ok := v.idx.Rec(v.cur.n)
	if !ok || rec.Stream < 0 {
		v.bar(y, w, "Ladder", false)
		v.put(2, y+1, w-2, "the selected frame belongs to no TCP connection", v.st.dim)
		return
	}
	frames := v.streamFrames(rec.Stream, v.cur.n, max(8, (h-3)/2))
	s := &session.Session{Stream: int(rec.Stream), Start: v.idx.First()}
	var p decode.Packet
	for _, n := range frames {
		r, _ := v.idx.Rec(n)
		f, err := v.fr.Read(n, r.Off)
		if err != nil || decode.DecodeWith(f, &p, decode.DecodeOptions{SkipChecksums: true}) != nil || p.TCP == nil {
			continue
		}
		if len(s.Segments) == 0 {
			s.Ends = [2]netip.AddrPort{p.SrcAddrPort(), p.DstAddrPort()}
		}
		dir := 0
		if p.SrcAddrPort() != s.Ends[0] {
			dir = 1
		}
		s.Segments = append(s.Segments, session.Segment{Frame: n, Time: time.Unix(0, r.Time), Dir: dir,
			Flags: p.TCP.Flags(), Seq: r.Seq, Ack: r.Ack, Len: p.PayloadLen, Win: r.Win,
			Verdict: r.Flags, Severity: r.Severity, Note: v.idx.Note(n)})
	}
	v.bar(y, w, "Ladder · stream "+strconv.Itoa(int(rec.Stream))+" · l hides it", false)
	var b bytes.Buffer
	width := max(20, min(56, w-50))
	picture.Ladder(&b, s, picture.LadderOptions{Theme: render.NewTheme(false), Width: width})
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	// Start a few lines above the selected frame's row.
	at := 0
	tag := "#" + strconv.Itoa(v.cur.n) + " "
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " "), tag) {
			at = i
			break
		}
	}
	top := max(0, min(at-(h-1)/3, len(lines)-(h-1)))
	for i := 0; i < h-1 && top+i < len(lines); i++ {
		st := v.st.normal
		if l := lines[top+i]; strings.HasPrefix(strings.TrimLeft(l, " "), tag) {
			st = v.st.bold
		}
		v.put(0, y+1+i, w, lines[top+i], st)
	}
}

// save writes the frames shown to path (w), by the rules of capture -w:
// never through a symlink nor over an existing file.
func (v *view) save(path string) {
	n := v.list.Len()
	if n == 0 {
		v.msg = "no frame shown: nothing to save"
		return
	}
	fn0 := 0
	for i := 0; i < n && fn0 <= 0; i++ {
		fn0 = v.list.At(i)
	}
	first, _ := v.idx.Rec(fn0)
	f, err := v.fr.Read(fn0, first.Off)
	if err != nil {
		v.msg = err.Error()
		return
	}
	w, err := capture.Create(path, f.Meta.Link, 262144, false)
	if errors.Is(err, safefile.ErrExists) {
		v.msg = path + " exists: give another name (the view never writes over a file)"
		return
	}
	if err != nil {
		v.msg = err.Error()
		return
	}
	for i := 0; i < n; i++ {
		fn := v.list.At(i)
		if fn < 0 {
			continue // a socket call, not a frame
		}
		r, _ := v.idx.Rec(fn)
		f, err := v.fr.Read(fn, r.Off)
		if err == nil {
			err = w.Write(f)
		}
		if err != nil {
			w.Close()
			v.msg = err.Error()
			return
		}
	}
	if err := w.Close(); err != nil {
		v.msg = err.Error()
		return
	}
	v.msg = "saved " + strconv.Itoa(n) + " frames to " + path
}
