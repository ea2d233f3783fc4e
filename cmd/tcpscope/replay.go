package main

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/replay"
)

func replayCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "show every TCP segment of a saved capture (pcap, pcapng, gzip; - for stdin)",
		ArgsUsage: "FILE",
		Description: `Reads a capture file and prints one line per TCP segment: frame number,
time since the first frame, source → destination, flags, sequence and
acknowledgement numbers (relative to each side's initial sequence number,
as Wireshark shows them; -S for the raw values), payload length, window
(after window scaling) and options, then a note saying what the segment does.

A per-connection summary follows the segments (on stderr with --json).

Examples:
   tcpscope replay pcaps/tcpdump-print-flags.pcap
   tcpscope replay capture.pcapng --json | jq .note
   tcpscope replay -S --stream 2 capture.pcap.gz
   tcpdump -i lo -w - port 8080 | tcpscope replay -`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON lines (shared/spec/packet-json.md): one object per segment"},
			&cli.BoolFlag{Name: "absolute", Aliases: []string{"S"}, Usage: "print raw sequence numbers, not relative ones (as tcpdump -S)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` segments"},
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "show only connection `N` (numbered from 0, as Wireshark's tcp.stream)"},
			&cli.StringFlag{Name: "frames", Usage: "show only frames `A-B` (1-based, inclusive; A- or -B leave an end open)"},
			&cli.BoolFlag{Name: "no-summary", Usage: "do not print the per-connection summary"},
			colorFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("replay needs a capture file (or - for stdin); see 'tcpscope replay --help'")
			}
			if c.NArg() > 1 {
				return usageError("replay takes one file; filter expressions are not supported yet (got %q)", strings.Join(c.Args().Slice()[1:], " "))
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			from, to, err := parseRange(c.String("frames"))
			if err != nil {
				return err
			}
			o := showOptions{JSON: c.Bool("json"), Absolute: c.Bool("absolute"), Color: col, Count: c.Int("count"),
				Stream: c.Int("stream"), FromFrame: from, ToFrame: to, Summary: !c.Bool("no-summary")}
			path := c.Args().First()
			f, err := replay.Open(path, e.stdin)
			if err != nil {
				return runtimeError(err)
			}
			defer f.Close()
			if err := showSegments(c.Context, path, f, o, e.stdout, e.stderr); err != nil {
				return runtimeError(err)
			}
			return nil
		},
	}
}

// parseRange parses "A-B", "A-", "-B" or "N" into an inclusive frame range.
func parseRange(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	var from, to int
	var err error
	if a != "" {
		if from, err = strconv.Atoi(a); err != nil || from < 1 {
			return 0, 0, usageError("--frames %q: %q is not a frame number", s, a)
		}
	}
	if b != "" {
		if to, err = strconv.Atoi(b); err != nil || to < 1 {
			return 0, 0, usageError("--frames %q: %q is not a frame number", s, b)
		}
	}
	if to != 0 && from > to {
		return 0, 0, usageError("--frames %q: the range is empty", s)
	}
	return from, to, nil
}
