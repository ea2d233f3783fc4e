package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/internal/safefile"
	"github.com/tcpscope/tcpscope/picture"
	"github.com/tcpscope/tcpscope/session"
)

// graphSegments is about how many segments a graph keeps: the 1400-unit
// plot cannot show more (a longer stream is thinned evenly, flagged
// segments first kept, and the picture says so), and memory stays bounded.
const graphSegments = 10000

func graphCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "graph",
		Usage:     "draw Stevens' time-sequence graph and the RTT of one connection as SVG",
		ArgsUsage: "FILE",
		Description: `Writes an SVG picture of connection --stream N, one direction's data
(the direction that sent more, unless --dir says otherwise):

  top:    sequence number against time. Each segment is a vertical bar from
          its first to its last byte, at the time it was sent; retransmitted
          segments are red, out-of-order ones orange. The dashed green line
          is the receiver's acknowledgement number, the yellow line the edge
          of the window it advertised (ack + window): the sender may not go
          above it. Purple bands are SACK blocks: data the receiver holds
          beyond a hole.
  bottom: the round-trip time measured by each ACK that acknowledged new
          data (Wireshark's tcp.analysis.ack_rtt), in milliseconds.

A steady staircase is a healthy transfer; bars pressed against the yellow
line mean the receiver's window limits the sender; red bars after a flat
green line show a loss and its recovery. Open the file in a web browser.

A stream of more than 10,000 segments is thinned to what the picture can
show: every segment the analysis flagged (retransmissions, out-of-order...)
and SYN/FIN/RST are kept first, the others evenly (1 in N), and a line above
the plot says how many were drawn.

Examples:
   tcpscope graph pcaps/zeek-tcp-retransmit-fast009.pcap --stream 0 -o lossy.svg
   tcpscope graph capture.pcap --stream 2 --dir client -o upload.svg`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "the connection `N` to draw (see 'tcpscope stats'); required"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the SVG to `FILE` (- for stdout); required"},
			forceFlag(),
			&cli.StringFlag{Name: "dir", Value: "auto", Usage: "whose data to draw: auto (the side that sent more), client or server"},
			displayFilterFlag(),
		},
		Action: stoppable(func(c *cli.Context) error {
			path, err := oneFile(c, "graph")
			if err != nil {
				return err
			}
			if c.Int("stream") < 0 {
				return usageError("graph needs --stream N (the connection numbers are in 'tcpscope stats %s')", path)
			}
			out := c.String("out")
			if out == "" {
				return usageError("graph needs -o FILE.svg (or -o - for stdout)")
			}
			want := c.String("dir")
			if want != "auto" && want != "client" && want != "server" {
				return usageError("--dir must be auto, client or server, not %q", want)
			}
			s, err := loadSelected(c, e, path, session.Keep{Spread: graphSegments})
			if err != nil || s == nil {
				return err
			}
			o := picture.GraphOptions{Dir: -1}
			roles := s.Roles()
			for d := 0; d < 2; d++ {
				if roles[d] == want {
					o.Dir = d
				}
			}
			var w io.Writer = e.stdout
			var f *os.File
			if out != "-" {
				if f, err = safefile.Create(out, c.Bool("force")); err != nil {
					return runtimeError(err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			if err := picture.Graph(bw, s, o); err != nil {
				return runtimeError(err)
			}
			if err := bw.Flush(); err != nil {
				return runtimeError(err)
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return runtimeError(err)
				}
				fmt.Fprintf(e.stderr, "tcpscope: wrote %s (%s of stream %d)\n", out, nOf(s.Total, "segment"), s.Stream)
			}
			return nil
		}),
	}
}
