package follow

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

// HTTPOrText shows HTTP/1.x message by message and anything else as text
// (Text): see httpOrText.
func HTTPOrText(w io.Writer, th render.Theme) Writer {
	return &httpOrText{w: w, th: th}
}

// httpOrText holds the first chunks until the first line the first sender
// sent shows whether the stream is HTTP/1.x. HTTP is shown message by
// message (httpView); anything else as text, from the chunks held on.
type httpOrText struct {
	w    io.Writer
	th   render.Theme
	held []session.Chunk
	n    int
	next Writer // chosen
}

// httpDecideAfter bounds what is held before the choice: by then a first
// line that is not complete is not an HTTP start line.
const httpDecideAfter = 64 << 10

func (v *httpOrText) Chunk(s *session.Session, c session.Chunk) error {
	if v.next != nil {
		return v.next.Chunk(s, c)
	}
	c.Data = bytes.Clone(c.Data) // held beyond this call
	v.held = append(v.held, c)
	v.n += len(c.Data) + c.Missing + c.Uncaptured
	var first []byte
	for _, h := range v.held {
		if h.Dir == 0 {
			first = append(first, h.Data...)
			first = append(first, make([]byte, min(h.Missing+h.Uncaptured, httpDecideAfter))...)
		}
	}
	if !bytes.Contains(first, []byte("\r\n")) && v.n < httpDecideAfter {
		return nil
	}
	return v.decide(s, first)
}

func (v *httpOrText) decide(s *session.Session, first []byte) error {
	if session.LooksLikeHTTP(first) {
		v.next = &httpView{w: v.w, th: v.th}
	} else {
		v.next = Text(v.w, v.th)
	}
	held := v.held
	v.held = nil
	for _, c := range held {
		if err := v.next.Chunk(s, c); err != nil {
			return err
		}
	}
	return nil
}

func (v *httpOrText) Finish(s *session.Session) error {
	if v.next == nil {
		var first []byte
		for _, h := range v.held {
			if h.Dir == 0 {
				first = append(first, h.Data...)
				first = append(first, make([]byte, h.Missing+h.Uncaptured)...)
			}
		}
		if err := v.decide(s, first); err != nil {
			return err
		}
	}
	return v.next.Finish(s)
}

// httpView shows each HTTP message in the order its first byte arrived:
// start line, headers, body size. Bodies are counted, not kept
// (session.HTTPStream), and a message is printed as soon as no message
// still to come can precede it.
type httpView struct {
	w       io.Writer
	th      render.Theme
	hs      [2]*session.HTTPStream
	methods []string
	spans   [2][]span // where the chunks still needed lie in each direction
	pos     [2]int    // bytes of each direction so far
	n       int       // chunks so far
	ready   []placedMsg
	count   [2]int
	cur     [2]struct{ off, idx, frame int } // where the message in progress started
}

// span is one chunk's place: its index among all chunks and its bytes in
// its direction's stream.
type span struct {
	idx, start, end, frame int
}

type placedMsg struct {
	idx, frame int
	m          session.HTTPMessage
}

func (v *httpView) init() {
	for d := range v.hs {
		d := d
		v.hs[d] = &session.HTTPStream{Dir: d, Methods: &v.methods, Started: func(off int) {
			idx, frame := v.place(d, off)
			v.cur[d] = struct{ off, idx, frame int }{off, idx, frame}
		}, Done: func(m session.HTTPMessage) {
			idx, frame := v.cur[d].idx, v.cur[d].frame
			if m.Offset != v.cur[d].off {
				idx, frame = v.place(d, m.Offset)
			}
			v.ready = append(v.ready, placedMsg{idx, frame, m})
			v.count[d]++
		}}
	}
}

// place finds the chunk holding offset off of direction d.
func (v *httpView) place(d, off int) (idx, frame int) {
	for _, sp := range v.spans[d] {
		if off >= sp.start && off < sp.end {
			return sp.idx, sp.frame
		}
	}
	return v.n, 0
}

func (v *httpView) Chunk(s *session.Session, c session.Chunk) error {
	if v.hs[0] == nil {
		v.init()
	}
	d := c.Dir
	size := len(c.Data) + c.Missing + c.Uncaptured
	v.spans[d] = append(v.spans[d], span{v.n, v.pos[d], v.pos[d] + size, c.Frame})
	v.pos[d] += size
	v.n++
	v.hs[d].Write(c.Data)
	v.hs[d].Zeros(c.Missing + c.Uncaptured)
	// Forget the chunks before anything still to be placed: the head
	// being looked for, or (inside a message, whose start was placed
	// when its head was parsed) the bytes not yet scanned.
	keep := v.hs[d].Scanned()
	sp := v.spans[d]
	k := 0
	for k < len(sp) && sp[k].end <= keep {
		k++
	}
	v.spans[d] = append(sp[:0], sp[k:]...)
	return v.flush(s, false)
}

// flush prints the messages no later one can precede (all at the end).
func (v *httpView) flush(s *session.Session, all bool) error {
	less := func(a, b placedMsg) bool {
		if a.idx != b.idx {
			return a.idx < b.idx
		}
		if a.m.Dir != b.m.Dir {
			return a.m.Dir < b.m.Dir
		}
		return a.m.Offset < b.m.Offset
	}
	for i := 1; i < len(v.ready); i++ {
		for j := i; j > 0 && less(v.ready[j], v.ready[j-1]); j-- {
			v.ready[j], v.ready[j-1] = v.ready[j-1], v.ready[j]
		}
	}
	var mark [2]int // the earliest chunk a message still to come can start in
	for d := range mark {
		if v.hs[d].InMessage() {
			mark[d] = v.cur[d].idx
		} else {
			mark[d], _ = v.place(d, v.hs[d].Next())
		}
	}
	printed := 0
	for _, p := range v.ready {
		if !all {
			o := 1 - p.m.Dir
			if !(mark[o] > p.idx || mark[o] == p.idx && o > p.m.Dir) {
				break
			}
		}
		if err := v.print(s, p); err != nil {
			return err
		}
		printed++
	}
	v.ready = append(v.ready[:0], v.ready[printed:]...)
	return nil
}

func (v *httpView) print(s *session.Session, p placedMsg) error {
	roles := s.Roles()
	m, th := p.m, v.th
	kind := "response"
	if m.Request {
		kind = "request"
	}
	var b strings.Builder
	hdr := fmt.Sprintf("── HTTP %s, %s %s → %s (frame %d) ──", kind, roles[m.Dir], s.Ends[m.Dir], s.Ends[1-m.Dir], p.frame)
	b.WriteString(th.Bold(paintDir(th, roles, m.Dir, hdr)) + "\n")
	b.WriteString(paintDir(th, roles, m.Dir, th.Bold(m.Start)) + "\n")
	for _, h := range m.Headers {
		b.WriteString(paintDir(th, roles, m.Dir, "  "+printable([]byte(h))) + "\n")
	}
	body := fmt.Sprintf("  [headers %s, body %s", nOf(m.HeadLen, "byte"), nOf(m.BodyLen, "byte"))
	if m.Chunked {
		body += ", chunked"
	}
	if !m.Complete {
		body += ", incomplete in the capture"
	}
	b.WriteString(th.Dim(body+"]") + "\n")
	_, err := io.WriteString(v.w, b.String())
	return writeErr(err)
}

func (v *httpView) Finish(s *session.Session) error {
	if v.hs[0] == nil {
		v.init()
	}
	v.hs[0].Close()
	v.hs[1].Close()
	if err := v.flush(s, true); err != nil {
		return err
	}
	fmt.Fprintf(v.w, "%s\n", v.th.Dim(fmt.Sprintf("── %s, %s ──", nOf(v.count[0], "request"), nOf(v.count[1], "response"))))
	return writeErr(footer(v.w, s, v.th))
}
