package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/sendreplay"
)

func sendCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "replay a captured connection's client side against a live server and compare the replies",
		ArgsUsage: "FILE",
		Description: `Opens a new TCP connection to --to and sends the client's bytes of one
captured connection (the side that sent the SYN), one write per captured
client segment, skipping retransmitted bytes. Before each write it waits for
as many reply bytes as the captured client had received by then, so a
request-response dialogue keeps its turns. The server's replies are then
compared with the captured ones, reassembled in sequence order:

   identical (N bytes)            the server answered byte for byte as captured
   differs at byte N              both sides are shown around that byte
   shorter / longer               the reply is a prefix of the captured one, or more
   server closed or reset early   the server ended the connection before the end

Exit codes: 0 identical, 3 any difference, 1 when the replay could not be
made (file, connection refused), 2 bad command line.

Examples:
   tcpscope send session.pcap --to 127.0.0.1:8080
   tcpscope send capture.pcapng --to localhost:7 --stream 2 --pace`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the live server, `HOST:PORT` (required)"},
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "replay connection `N` (numbered from 0, as Wireshark's tcp.stream); default: the first with client data"},
			&cli.BoolFlag{Name: "pace", Usage: "send each segment at its captured time, not as soon as its turn comes"},
			&cli.DurationFlag{Name: "wait", Value: 3 * time.Second, Usage: "how long to wait for reply bytes that do not come (`DURATION`)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("send needs exactly one capture file (or - for stdin); see 'tcpscope send --help'")
			}
			to := c.String("to")
			if to == "" {
				return usageError("send needs --to HOST:PORT, the live server to send to (see 'tcpscope send --help')")
			}
			if _, _, err := net.SplitHostPort(to); err != nil {
				return usageError("--to %q: want HOST:PORT (%v)", to, err)
			}
			path := c.Args().First()
			f, err := replay.OpenContext(c.Context, path, e.stdin)
			if err != nil {
				return runtimeError(err)
			}
			defer f.Close()
			s, err := sendreplay.Load(f, c.Int("stream"))
			if errors.Is(err, sendreplay.ErrNoStream) {
				return usageError("%s: %v", path, err)
			}
			if err != nil {
				return runtimeError(fmt.Errorf("%s: %w", path, err))
			}
			who := "the client (it sent the SYN)"
			if !s.ClientBySYN {
				who = "the client (no SYN captured: taken to be the first sender)"
			}
			fmt.Fprintf(e.stdout, "stream %d of %d: %s → %s; %s sent %s in %s",
				s.Stream, s.Streams, s.Client, s.Server, who, nOf(s.ClientBytes(), "byte"), nOf(len(s.Chunks), "segment"))
			if s.Retransmitted > 0 {
				fmt.Fprintf(e.stdout, " (%s skipped)", nOf(s.Retransmitted, "retransmitted byte"))
			}
			fmt.Fprintf(e.stdout, "; the server replied %s", nOf(len(s.Reply), "byte"))
			if s.ReplyGap {
				fmt.Fprint(e.stdout, " (up to a gap in the capture)")
			}
			fmt.Fprintln(e.stdout)
			res, err := sendreplay.Run(c.Context, s, to, sendreplay.Options{Pace: c.Bool("pace"), Wait: c.Duration("wait")})
			if err != nil {
				return runtimeError(err)
			}
			fmt.Fprintf(e.stdout, "sent %s in %s to %s, received %s\n", nOf(res.Sent, "byte"), nOf(res.Writes, "write"), to, nOf(len(res.Got), "byte"))
			if err := res.Report(e.stdout); err != nil {
				return runtimeError(err)
			}
			if !res.Match() {
				return cli.Exit("", exitMismatch)
			}
			return nil
		},
	}
}

// nOf says "1 segment" or "N segments".
func nOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
