package main

import (
	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/picture"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/session"
)

// ladderEnds is how many segments a ladder draws at each end of a long
// stream: 1000 arrows are already 3000 lines to scroll, and memory stays
// bounded whatever the stream's length.
const ladderEnds = 500

func ladderCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "ladder",
		Usage:     "draw one connection as a ladder (sequence) diagram in the terminal",
		ArgsUsage: "FILE",
		Description: `Draws connection --stream N as the sequence diagram of lecture slides:
one vertical line per endpoint (the client on the left when the capture
holds the SYN), time running down, and an arrow for every segment slanting
down from its sender to its receiver. Above each arrow: the flags, the
relative sequence number, the acknowledgement number (when ACK is set), the
payload length (when there is data), the window and any SACK blocks. Beside
each endpoint's line: its TCP state (RFC 9293's names) where it changes, the
sender's where the arrow leaves, the receiver's where it arrives. To the
right: what the segment does, in words. Retransmissions, duplicate ACKs and
other trouble are coloured (yellow for notes, red for warnings).

The rows are evenly spaced, not to time scale: see 'tcpscope graph' for a
picture on a time axis. A stream of more than 1000 segments is drawn by its
first 500 and its last 500, with a line saying how many were left out between
them (the states after it are inferred from the segments drawn).

Examples:
   tcpscope ladder pcaps/tcpdump-print-flags.pcap --stream 0
   tcpscope ladder pcaps/zeek-tcp-retransmit-fast009.pcap --stream 0 --color always | less -R`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "the connection `N` to draw (see 'tcpscope stats'); required"},
			&cli.IntFlag{Name: "width", Value: 56, Usage: "`COLUMNS` between the two endpoint lines"},
			displayFilterFlag(),
			colorFlag(),
		},
		Action: stoppable(func(c *cli.Context) error {
			path, err := oneFile(c, "ladder")
			if err != nil {
				return err
			}
			if c.Int("stream") < 0 {
				return usageError("ladder needs --stream N (the connection numbers are in 'tcpscope stats %s')", path)
			}
			if c.Int("width") < 20 {
				return usageError("--width must be at least 20, not %d", c.Int("width"))
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			s, err := loadSelected(c, e, path, session.Keep{Head: ladderEnds, Tail: ladderEnds})
			if err != nil || s == nil {
				return err
			}
			o := picture.LadderOptions{Theme: render.NewTheme(col), Width: c.Int("width"), Roles: s.Roles()}
			if err := picture.Ladder(e.stdout, s, o); err != nil {
				return runtimeError(err)
			}
			return nil
		}),
	}
}
