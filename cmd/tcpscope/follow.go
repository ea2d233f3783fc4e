package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
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
The reassembly follows Wireshark's "Follow TCP Stream", byte for byte.

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
			s, err := loadStream(c, e, path, true)
			if err != nil {
				return err
			}
			if dir := c.String("out"); dir != "" {
				return writeFlows(e, s, dir, c.Bool("force"))
			}
			th := render.NewTheme(col)
			if c.Bool("raw") {
				return writeFollowHex(e.stdout, s, th)
			}
			if !c.Bool("no-http") && session.LooksLikeHTTP(s.Follow.Bytes(0)) {
				return writeFollowHTTP(e.stdout, s, th)
			}
			return writeFollowText(e.stdout, s, th)
		}),
	}
}

// loadStream reads the capture and gathers connection --stream, with a
// progress bar on a terminal for large files.
func loadStream(c *cli.Context, e *env, path string, follow bool) (*session.Session, error) {
	src, done, err := openCapture(c.Context, e, path)
	if err != nil {
		return nil, runtimeError(err)
	}
	defer done()
	s, err := session.Load(c.Context, src, session.LoadOptions{Stream: c.Int("stream"), Follow: follow})
	if errors.Is(err, session.ErrNoStream) {
		return nil, usageError("%s: %v", path, err)
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
	var sb strings.Builder
	for i, c := range b {
		switch {
		case c == '\n' || c == '\t':
			sb.WriteByte(c)
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
		case c < 0x20 || c >= 0x7f:
			sb.WriteByte('.')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func writeFollowText(w io.Writer, s *session.Session, th render.Theme) error {
	roles := roleNames(s)
	last := -1
	for _, c := range s.Follow.Chunks() {
		if c.Dir != last {
			if last >= 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, dirHeader(s, roles, th, c))
			last = c.Dir
		}
		if len(c.Data) > 0 {
			if _, err := io.WriteString(w, paintDir(th, roles, c.Dir, printable(c.Data))); err != nil {
				return err
			}
		}
		if c.Missing > 0 || c.Uncaptured > 0 {
			fmt.Fprint(w, th.Warn(gapText(c)))
		}
	}
	if last >= 0 {
		fmt.Fprintln(w)
	}
	return followFooter(w, s, th)
}

// followFooter says what the reassembly could not place.
func followFooter(w io.Writer, s *session.Session, th render.Theme) error {
	var n [2]int
	for _, c := range s.Follow.Chunks() {
		n[c.Dir] += len(c.Data)
	}
	roles := roleNames(s)
	_, err := fmt.Fprintf(w, "%s\n", th.Dim(fmt.Sprintf("── %s from the %s, %s from the %s ──", nOf(n[0], "byte"), roles[0], nOf(n[1], "byte"), roles[1])))
	if wt := s.Follow.Waiting(); wt[0]+wt[1] > 0 {
		_, err = fmt.Fprintf(w, "%s\n", th.Warn(nOf(wt[0]+wt[1], "byte")+" not shown: they follow a hole that nobody acknowledged, so their place in the stream is unknown"))
	}
	return err
}

// writeFollowHex prints each run of one direction as a hex dump whose
// offsets count that direction's bytes (gaps included), so they line up
// with relative sequence numbers minus one.
func writeFollowHex(w io.Writer, s *session.Session, th render.Theme) error {
	roles := roleNames(s)
	var off [2]int
	last := -1
	for _, c := range s.Follow.Chunks() {
		if c.Dir != last {
			fmt.Fprintln(w, dirHeader(s, roles, th, c))
			last = c.Dir
		}
		for i := 0; i < len(c.Data); i += 16 {
			row := c.Data[i:min(i+16, len(c.Data))]
			hex := fmt.Sprintf("% x", row)
			line := fmt.Sprintf("%08x  %-47s  %s", off[c.Dir]+i, hex, printable(bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\t' {
					return '.'
				}
				return r
			}, row)))
			if _, err := fmt.Fprintln(w, paintDir(th, roles, c.Dir, line)); err != nil {
				return err
			}
		}
		off[c.Dir] += len(c.Data) + c.Missing + c.Uncaptured
		if c.Missing > 0 || c.Uncaptured > 0 {
			fmt.Fprintln(w, th.Warn(gapText(c)))
		}
	}
	return followFooter(w, s, th)
}

// writeFollowHTTP shows each HTTP message in the order its first byte
// arrived: start line, headers, body size.
func writeFollowHTTP(w io.Writer, s *session.Session, th render.Theme) error {
	roles := roleNames(s)
	req := session.ParseHTTP(0, s.Follow.Bytes(0), nil)
	var methods []string
	for _, m := range req {
		methods = append(methods, m.Method)
	}
	resp := session.ParseHTTP(1, s.Follow.Bytes(1), methods)
	// Where each direction's stream offset was delivered: chunk index.
	at := func(dir, off int) (int, session.Chunk) {
		pos := 0
		for i, c := range s.Follow.Chunks() {
			if c.Dir != dir {
				continue
			}
			n := len(c.Data) + c.Missing + c.Uncaptured
			if off < pos+n {
				return i, c
			}
			pos += n
		}
		return len(s.Follow.Chunks()), session.Chunk{Dir: dir}
	}
	type placed struct {
		idx   int
		chunk session.Chunk
		m     session.HTTPMessage
	}
	var all []placed
	for _, ms := range [][]session.HTTPMessage{req, resp} {
		for _, m := range ms {
			i, c := at(m.Dir, m.Offset)
			all = append(all, placed{i, c, m})
		}
	}
	// Stable order: by delivery, requests before responses in one chunk.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (all[j].idx < all[j-1].idx || all[j].idx == all[j-1].idx && all[j].m.Offset < all[j-1].m.Offset && all[j].m.Dir == all[j-1].m.Dir); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	for _, p := range all {
		m := p.m
		kind := "response"
		if m.Request {
			kind = "request"
		}
		hdr := fmt.Sprintf("── HTTP %s, %s %s → %s (frame %d) ──", kind, roles[m.Dir], s.Ends[m.Dir], s.Ends[1-m.Dir], p.chunk.Frame)
		fmt.Fprintln(w, th.Bold(paintDir(th, roles, m.Dir, hdr)))
		fmt.Fprintln(w, paintDir(th, roles, m.Dir, th.Bold(m.Start)))
		for _, h := range m.Headers {
			fmt.Fprintln(w, paintDir(th, roles, m.Dir, "  "+printable([]byte(h))))
		}
		body := fmt.Sprintf("  [headers %s, body %s", nOf(m.HeadLen, "byte"), nOf(m.BodyLen, "byte"))
		if m.Chunked {
			body += ", chunked"
		}
		if !m.Complete {
			body += ", incomplete in the capture"
		}
		if _, err := fmt.Fprintln(w, th.Dim(body+"]")); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s\n", th.Dim(fmt.Sprintf("── %s, %s ──", nOf(len(req), "request"), nOf(len(resp), "response"))))
	return followFooter(w, s, th)
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

// writeFlows writes each direction to DIR/src.port-dst.port. Missing and
// uncaptured bytes are written as zeros, as tcpflow leaves holes, so file
// offsets stay stream offsets; stderr says how many there were.
//
// The names are predictable from the capture, so the files are created by
// internal/safefile's rules: never through a symlink, never over an
// existing file unless force, and relative to DIR's descriptor so that a
// component swapped for a symlink cannot redirect them.
func writeFlows(e *env, s *session.Session, dir string, force bool) error {
	od, err := safefile.OpenDir(dir)
	if err != nil {
		return runtimeError(err)
	}
	defer od.Close()
	for d := 0; d < 2; d++ {
		b := s.Follow.Bytes(d)
		base := flowName(s.Ends[d], s.Ends[1-d])
		name := filepath.Join(dir, base)
		f, err := od.Create(base, force)
		if err != nil {
			return runtimeError(err)
		}
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return runtimeError(fmt.Errorf("%s: %v", name, unwrapPathErr(err)))
		}
		holes := 0
		for _, c := range s.Follow.Chunks() {
			if c.Dir == d {
				holes += c.Missing + c.Uncaptured
			}
		}
		fmt.Fprintf(e.stdout, "%s  %s", name, nOf(len(b), "byte"))
		if holes > 0 {
			fmt.Fprintf(e.stdout, " (%d of them zeros standing for bytes the capture lacks)", holes)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}
