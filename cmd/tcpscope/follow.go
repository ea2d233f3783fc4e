package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/follow"
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
		Action: stoppable(func(c *cli.Context) (err error) {
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
			// A file's stream goes out through a 64 KiB buffer: a write per
			// chunk was 160 000 write(2) calls for bench/bulk.pcap's 414 MB
			// stream, 0.1 s of CPU. From a pipe ("-"), where the frames come
			// as they are captured, each chunk is written when it arrives.
			out := e.stdout
			if path != "-" {
				bw := bufio.NewWriterSize(e.stdout, 64<<10)
				out = bw
				defer func() {
					// Also after an error or Ctrl-C: what was followed is shown.
					if ferr := bw.Flush(); err == nil && ferr != nil {
						err = runtimeError(ferr)
					}
				}()
			}
			var fw follow.Writer
			switch {
			case c.String("out") != "":
				fw = follow.Files(c.String("out"), c.Bool("force"), out)
			case c.Bool("raw"):
				fw = follow.Hex(out, th)
			case c.Bool("no-http"):
				fw = follow.Text(out, th)
			default:
				fw = follow.HTTPOrText(out, th)
			}
			s, err := loadStreamWith(c, e, path, session.LoadOptions{
				Follow:  true,
				Keep:    session.Keep{Head: 1}, // Session.Roles looks at the first segment
				OnChunk: fw.Chunk,
				NoNotes: true, // none is shown
			})
			if err != nil {
				var we *follow.WriteError
				if errors.As(err, &we) {
					return runtimeError(we.Err)
				}
				return err
			}
			if err := fw.Finish(s); err != nil {
				var we *follow.WriteError
				if errors.As(err, &we) {
					return runtimeError(we.Err)
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

// loadSelected loads stream --stream keeping the segments keep says and,
// with -Y, only those the display filter matches. A filter that matches
// no segment of the stream is said on stderr and gives a nil session (and
// no error): graph and ladder then draw nothing and exit 0, as tshark does.
func loadSelected(c *cli.Context, e *env, path string, keep session.Keep) (*session.Session, error) {
	df, err := displayFilter(c)
	if err != nil {
		return nil, err
	}
	lo := session.LoadOptions{Keep: keep}
	if df != nil {
		lo.Select = df.Match
	}
	s, err := loadStreamWith(c, e, path, lo)
	if err != nil {
		return nil, err
	}
	if df != nil && len(s.Segments) == 0 {
		fmt.Fprintf(e.stderr, "tcpscope: no segment of stream %d matches the display filter %q\n", c.Int("stream"), df.String())
		return nil, nil
	}
	return s, nil
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
	var we *follow.WriteError
	if errors.As(err, &we) {
		return nil, err
	}
	if err != nil {
		return nil, runtimeError(fmt.Errorf("%s: %w", path, err))
	}
	return s, nil
}
