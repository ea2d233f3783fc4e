package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/internal/safefile"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

func followCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "follow",
		Usage:     "show the bytes both sides of one connection sent, reassembled in order",
		ArgsUsage: "FILE",
		Description: `Rebuilds what each side of connection --stream N sent, as an application
read it: every byte once and in order, even when segments were retransmitted,
reordered or overlap. Both directions are interleaved in the order the data
arrived; a header line names the sender each time the direction changes
(client text in blue, server text in green when colour is on).

Where the capture lost segments that the receiver did acknowledge, a marker
says how much is missing, e.g. "[1448 bytes missing]"; "[1418 bytes not
captured]" means the capture kept only the start of each frame (its snaplen).
The reassembly follows Wireshark's "Follow TCP Stream", byte for byte, with
one exception: data waits behind a hole for at most 16 MiB per direction. A
hole neither filled nor acknowledged by then (a capture of one direction that
missed a segment) is shown as missing, and what follows it is shown; Wireshark
would wait for ever and show nothing after it. Bytes are printed as soon as
they are in order and no copy of the stream is kept, so memory stays bounded
whatever the stream's length.

When the connection carries HTTP/1.x, each request and response is shown
with its start line, headers and body size instead of the raw bytes
(--no-http shows the bytes).

Examples:
   tcpscope follow pcaps/pcapplusplus-one_http_stream_rst.pcap --stream 0
   tcpscope follow pcaps/zeek-tcp-reassembly.pcap --stream 0 --raw | less
   tcpscope follow capture.pcap --stream 3 --out flows/   # one file per direction, as tcpflow`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "the connection `N` to follow (see 'tcpscope stats'); required"},
			&cli.BoolFlag{Name: "raw", Usage: "hex dump (offset, 16 bytes in hex, the same as text) instead of text"},
			&cli.StringFlag{Name: "out", Usage: "write each direction's bytes to its own file in `DIR` (created 0700 if missing), named src.port-dst.port as tcpflow does"},
			forceFlag(),
			&cli.BoolFlag{Name: "no-http", Usage: "show HTTP messages as plain bytes"},
			colorFlag(),
		},
		Action: stoppable(func(c *cli.Context) error {
			path, err := oneFile(c, "follow")
			if err != nil {
				return err
			}
			if c.Int("stream") < 0 {
				return usageError("follow needs --stream N (the connection numbers are in 'tcpscope stats %s')", path)
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			th := render.NewTheme(col)
			var fw followWriter
			switch {
			case c.String("out") != "":
				fw = &flowFiles{e: e, dir: c.String("out"), force: c.Bool("force")}
			case c.Bool("raw"):
				fw = &hexView{w: e.stdout, th: th}
			case c.Bool("no-http"):
				fw = &textView{w: e.stdout, th: th}
			default:
				fw = &httpOrText{w: e.stdout, th: th}
			}
			s, err := loadStreamWith(c, e, path, session.LoadOptions{
				Follow: true,
				Keep:   session.Keep{Head: 1}, // roleNames looks at the first segment
				OnChunk: func(s *session.Session, ch session.Chunk) error {
					return fw.chunk(s, ch)
				},
			})
			if err != nil {
				var we *followWriteError
				if errors.As(err, &we) {
					return runtimeError(we.err)
				}
				return err
			}
			if err := fw.finish(s); err != nil {
				var we *followWriteError
				if errors.As(err, &we) {
					return runtimeError(we.err)
				}
				return err
			}
			return nil
		}),
	}
}

// loadStream reads the capture and gathers connection --stream, with a
// progress bar on a terminal for large files; keep bounds the segments
// kept.
func loadStream(c *cli.Context, e *env, path string, keep session.Keep) (*session.Session, error) {
	return loadStreamWith(c, e, path, session.LoadOptions{Keep: keep})
}

// loadStreamWith is loadStream with every option of session.Load (the
// stream is --stream's).
func loadStreamWith(c *cli.Context, e *env, path string, o session.LoadOptions) (*session.Session, error) {
	src, done, err := openCapture(c.Context, e, path)
	if err != nil {
		return nil, runtimeError(err)
	}
	defer done()
	o.Stream = c.Int("stream")
	o.ReadAhead = path != "-" // a pipe delivers frames as they come: no read-ahead batches
	s, err := session.Load(c.Context, src, o)
	if errors.Is(err, session.ErrNoStream) {
		return nil, usageError("%s: %v", path, err)
	}
	var we *followWriteError
	if errors.As(err, &we) {
		return nil, err
	}
	if err != nil {
		return nil, runtimeError(fmt.Errorf("%s: %w", path, err))
	}
	return s, nil
}

// roleNames names the two directions for a reader: Ends[0] sent the first
// segment, which is the client when the capture starts with the SYN.
func roleNames(s *session.Session) [2]string {
	if len(s.Segments) > 0 && s.Segments[0].Flags&0x12 == 0x12 {
		return [2]string{"server", "client"} // the capture starts at the SYN-ACK
	}
	return [2]string{"client", "server"}
}

func paintDir(th render.Theme, roles [2]string, dir int, s string) string {
	if roles[dir] == "client" {
		return th.Client(s)
	}
	return th.Server(s)
}

// dirHeader is the line printed whenever the direction changes.
func dirHeader(s *session.Session, roles [2]string, th render.Theme, c session.Chunk) string {
	h := fmt.Sprintf("── %s %s → %s  (frame %d, %.6fs) ──", roles[c.Dir], s.Ends[c.Dir], s.Ends[1-c.Dir], c.Frame, c.Time.Sub(s.Start).Seconds())
	return th.Bold(paintDir(th, roles, c.Dir, h))
}

func gapText(c session.Chunk) string {
	if c.Missing > 0 {
		return "[" + nOf(c.Missing, "byte") + " missing]"
	}
	return "[" + nOf(c.Uncaptured, "byte") + " not captured]"
}

// printable keeps text readable and harmless on a terminal: control bytes
// other than newline and tab (and the CR of CRLF) become '.'.
func printable(b []byte) string {
	return string(appendPrintable(nil, b))
}

// appendPrintable appends printable(b) to dst, copying runs of plain bytes
// at once (a followed stream can be gigabytes).
func appendPrintable(dst, b []byte) []byte {
	run := 0 // start of the current run of bytes kept as they are
	for i, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			continue
		}
		dst = append(dst, b[run:i]...)
		run = i + 1
		if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue // the CR of CRLF is dropped
		}
		dst = append(dst, '.')
	}
	return append(dst, b[run:]...)
}

// followWriter shows a followed stream as its chunks arrive: what it
// holds does not grow with the stream.
type followWriter interface {
	chunk(s *session.Session, c session.Chunk) error
	finish(s *session.Session) error
}

// followWriteError is a failed write of the output (a closed pipe, a full
// disk), told apart from a capture that cannot be read.
type followWriteError struct{ err error }

func (e *followWriteError) Error() string { return e.err.Error() }

func writeErr(err error) error {
	if err == nil {
		return nil
	}
	return &followWriteError{err}
}

// textView prints the chunks as text, a header line each time the
// direction changes.
type textView struct {
	w     io.Writer
	th    render.Theme
	last  int
	begun bool
	buf   []byte
}

func (v *textView) chunk(s *session.Session, c session.Chunk) error {
	if !v.begun {
		v.begun, v.last = true, -1
	}
	roles := roleNames(s)
	var b strings.Builder
	if c.Dir != v.last {
		if v.last >= 0 {
			b.WriteString("\n")
		}
		b.WriteString(dirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	if len(c.Data) > 0 {
		v.buf = appendPrintable(v.buf[:0], c.Data)
		b.WriteString(paintDir(v.th, roles, c.Dir, string(v.buf)))
	}
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)))
	}
	_, err := io.WriteString(v.w, b.String())
	return writeErr(err)
}

func (v *textView) finish(s *session.Session) error {
	if v.begun && v.last >= 0 {
		if _, err := fmt.Fprintln(v.w); err != nil {
			return writeErr(err)
		}
	}
	return writeErr(followFooter(v.w, s, v.th))
}

// followFooter says what the reassembly could not place.
func followFooter(w io.Writer, s *session.Session, th render.Theme) error {
	n := s.Follow.Delivered()
	roles := roleNames(s)
	_, err := fmt.Fprintf(w, "%s\n", th.Dim(fmt.Sprintf("── %s from the %s, %s from the %s ──", nOf(n[0], "byte"), roles[0], nOf(n[1], "byte"), roles[1])))
	if wt := s.Follow.Waiting(); wt[0]+wt[1] > 0 {
		_, err = fmt.Fprintf(w, "%s\n", th.Warn(nOf(wt[0]+wt[1], "byte")+" not shown: they follow a hole that nobody acknowledged, so their place in the stream is unknown"))
	}
	return err
}

// hexView prints each run of one direction as a hex dump whose offsets
// count that direction's bytes (gaps included), so they line up with
// relative sequence numbers minus one.
type hexView struct {
	w    io.Writer
	th   render.Theme
	off  [2]int
	last int
	seen bool
}

func (v *hexView) chunk(s *session.Session, c session.Chunk) error {
	if !v.seen {
		v.seen, v.last = true, -1
	}
	roles := roleNames(s)
	var b strings.Builder
	if c.Dir != v.last {
		b.WriteString(dirHeader(s, roles, v.th, c) + "\n")
		v.last = c.Dir
	}
	var line []byte
	for i := 0; i < len(c.Data); i += 16 {
		line = hexLine(line[:0], v.off[c.Dir]+i, c.Data[i:min(i+16, len(c.Data))])
		b.WriteString(paintDir(v.th, roles, c.Dir, string(line)) + "\n")
	}
	v.off[c.Dir] += len(c.Data) + c.Missing + c.Uncaptured
	if c.Missing > 0 || c.Uncaptured > 0 {
		b.WriteString(v.th.Warn(gapText(c)) + "\n")
	}
	_, err := io.WriteString(v.w, b.String())
	return writeErr(err)
}

// hexLine appends one row of the dump: the offset in 8 hex digits, the
// bytes in hex, and the same bytes as text (what fmt's "%08x  %-47s  %s"
// with "% x" gave, written out: a long stream has millions of rows).
func hexLine(b []byte, off int, row []byte) []byte {
	const digits = "0123456789abcdef"
	h := strconv.FormatInt(int64(off), 16)
	for i := len(h); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, h...)
	b = append(b, ' ', ' ')
	for i, c := range row {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	for i := len(row)*3 - 1; i < 47; i++ {
		b = append(b, ' ')
	}
	b = append(b, ' ', ' ')
	text := len(b)
	for _, c := range row {
		if c >= 0x80 {
			// Not ASCII: as printable shows a UTF-8 reading of it.
			return append(b[:text], printable(bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\t' {
					return '.'
				}
				return r
			}, row))...)
		}
		if c < 0x20 || c == 0x7f {
			c = '.'
		}
		b = append(b, c)
	}
	return b
}

func (v *hexView) finish(s *session.Session) error {
	return writeErr(followFooter(v.w, s, v.th))
}

// httpOrText holds the first chunks until the first line the first sender
// sent shows whether the stream is HTTP/1.x. HTTP is shown message by
// message (httpView); anything else as text, from the chunks held on.
type httpOrText struct {
	w    io.Writer
	th   render.Theme
	held []session.Chunk
	n    int
	next followWriter // chosen
}

// httpDecideAfter bounds what is held before the choice: by then a first
// line that is not complete is not an HTTP start line.
const httpDecideAfter = 64 << 10

func (v *httpOrText) chunk(s *session.Session, c session.Chunk) error {
	if v.next != nil {
		return v.next.chunk(s, c)
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
		v.next = &textView{w: v.w, th: v.th}
	}
	held := v.held
	v.held = nil
	for _, c := range held {
		if err := v.next.chunk(s, c); err != nil {
			return err
		}
	}
	return nil
}

func (v *httpOrText) finish(s *session.Session) error {
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
	return v.next.finish(s)
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

func (v *httpView) chunk(s *session.Session, c session.Chunk) error {
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
	roles := roleNames(s)
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

func (v *httpView) finish(s *session.Session) error {
	if v.hs[0] == nil {
		v.init()
	}
	v.hs[0].Close()
	v.hs[1].Close()
	if err := v.flush(s, true); err != nil {
		return err
	}
	fmt.Fprintf(v.w, "%s\n", v.th.Dim(fmt.Sprintf("── %s, %s ──", nOf(v.count[0], "request"), nOf(v.count[1], "response"))))
	return writeErr(followFooter(v.w, s, v.th))
}

// flowName is tcpflow's file name for one direction: each address part and
// port zero-padded (192.168.000.001.01234-010.000.000.002.00080), so that
// ls sorts flows sensibly.
func flowName(src, dst netip.AddrPort) string {
	part := func(ap netip.AddrPort) string {
		a := ap.Addr().Unmap()
		if a.Is4() {
			b := a.As4()
			return fmt.Sprintf("%03d.%03d.%03d.%03d.%05d", b[0], b[1], b[2], b[3], ap.Port())
		}
		return strings.ReplaceAll(a.StringExpanded(), ":", "") + fmt.Sprintf(".%05d", ap.Port())
	}
	return part(src) + "-" + part(dst)
}

// flowFiles writes each direction to DIR/src.port-dst.port as its bytes
// arrive. Missing and uncaptured bytes are written as zeros, as tcpflow
// leaves holes, so file offsets stay stream offsets; stdout says how many
// there were.
//
// The names are predictable from the capture, so the files are created by
// internal/safefile's rules: never through a symlink, never over an
// existing file unless force, and relative to DIR's descriptor so that a
// component swapped for a symlink cannot redirect them.
type flowFiles struct {
	e     *env
	dir   string
	force bool
	open  bool
	f     [2]*os.File
	bw    [2]*bufio.Writer
	name  [2]string
	n     [2]int
}

// create makes both files (at the first chunk, or at the end for a stream
// without data).
func (v *flowFiles) create(s *session.Session) error {
	v.open = true
	od, err := safefile.OpenDir(v.dir)
	if err != nil {
		return &followWriteError{err}
	}
	defer od.Close()
	for d := 0; d < 2; d++ {
		base := flowName(s.Ends[d], s.Ends[1-d])
		v.name[d] = filepath.Join(v.dir, base)
		f, err := od.Create(base, v.force)
		if err != nil {
			return &followWriteError{err}
		}
		v.f[d], v.bw[d] = f, bufio.NewWriterSize(f, 64<<10)
	}
	return nil
}

func (v *flowFiles) chunk(s *session.Session, c session.Chunk) error {
	if !v.open {
		if err := v.create(s); err != nil {
			return err
		}
	}
	d := c.Dir
	if _, err := v.bw[d].Write(c.Data); err != nil {
		return v.fail(d, err)
	}
	var zero [4096]byte
	for n := c.Missing + c.Uncaptured; n > 0; n -= min(n, len(zero)) {
		if _, err := v.bw[d].Write(zero[:min(n, len(zero))]); err != nil {
			return v.fail(d, err)
		}
	}
	v.n[d] += len(c.Data) + c.Missing + c.Uncaptured
	return nil
}

func (v *flowFiles) fail(d int, err error) error {
	return &followWriteError{fmt.Errorf("%s: %v", v.name[d], unwrapPathErr(err))}
}

func (v *flowFiles) finish(s *session.Session) error {
	if !v.open {
		if err := v.create(s); err != nil {
			return err
		}
	}
	holes := s.Follow.Gaps()
	for d := 0; d < 2; d++ {
		err := v.bw[d].Flush()
		if cerr := v.f[d].Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return v.fail(d, err)
		}
		fmt.Fprintf(v.e.stdout, "%s  %s", v.name[d], nOf(v.n[d], "byte"))
		if holes[d] > 0 {
			fmt.Fprintf(v.e.stdout, " (%d of them zeros standing for bytes the capture lacks)", holes[d])
		}
		fmt.Fprintln(v.e.stdout)
	}
	return nil
}
