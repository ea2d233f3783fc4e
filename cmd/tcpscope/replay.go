package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/replay/bpf"
	"github.com/tcpscope/tcpscope/session"
)

// exitInterrupted is the conventional status of a program stopped by
// Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

func replayCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "show every TCP segment of a saved capture (pcap, pcapng, gzip; - for stdin)",
		ArgsUsage: "FILE... [FILTER EXPRESSION]",
		Description: `Reads a capture file and prints one line per TCP segment: frame number,
time since the first frame, source → destination, flags, sequence and
acknowledgement numbers (relative to each side's initial sequence number,
as Wireshark shows them; -S for the raw values), payload length, window
(after window scaling) and options, then a note saying what the segment does
and how it changes each end's TCP state, with the names of RFC 9293's state
diagram ("client: SYN-SENT → ESTABLISHED"; "(inferred)" where the capture
starts in the middle of a connection and the earlier states are a guess).

Several files (or a quoted glob, 'cap-*.pcap') are read as one timeline,
merged by time stamp as mergecap does and numbered in that order: rotated
captures (capture -C/-G, tcpdump -C/-G) replay as the session they were, and
a connection that spans two files keeps its stream.

On a terminal, lines fit its width: the options move to --explain, ports
stand for the addresses when the addresses do not fit, and the note goes
under the segment, indented. --wide prints the full line, as into a pipe or
a file. --ascii (automatic when the locale is not UTF-8) spells → ▸ µ as
-> > us.

A per-connection summary follows the segments (on stderr with --json), with
the state each end was left in.

A filter expression after the file, in tcpdump's syntax (one argument or
several), selects frames as tcpdump would; frames keep their numbers in the
file, and the analysis still sees every frame.

-Y EXPR selects segments by a Wireshark display filter, after the analysis
(tcp.analysis.flags, tcp.analysis.retransmission && tcp.stream == 3,
tcp.analysis.ack_rtt > 0.2; 'tcpscope fields' lists the fields). The
summary then describes the connections it selected from, with their counts
over the whole capture.

--speed 1 plays the capture back at the pace it was recorded (2 = twice as
fast, 0.5 = half speed; 0, the default, = at once). --step waits for a key
before each segment: Enter or space for the next, b to go back one, q to
quit. Ctrl-C stops at once; the summary is still printed.

Examples:
   tcpscope replay pcaps/tcpdump-print-flags.pcap
   tcpscope replay capture.pcap 'tcp port 80 and tcp[13] & 2 != 0'
   tcpscope replay --step pcaps/tcpdump-ssh.pcap tcp port 22
   tcpscope replay --speed 1 capture.pcap
   tcpscope replay capture.pcapng --json | jq .note
   tcpscope replay -S --stream 2 capture.pcap.gz
   tcpscope replay -Y 'tcp.analysis.flags' pcaps/lo-bulk-loss.pcap
   tcpdump -i lo -w - port 8080 | tcpscope replay -`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON lines (docs/packet-json.md): one object per segment"},
			&cli.BoolFlag{Name: "absolute", Aliases: []string{"S"}, Usage: "print raw sequence numbers, not relative ones (as tcpdump -S)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` segments"},
			&cli.IntFlag{Name: "stream", Value: -1, Usage: "show only connection `N` (numbered from 0, as Wireshark's tcp.stream)"},
			&cli.StringFlag{Name: "frames", Usage: "show only frames `A-B` (1-based, inclusive; A- or -B leave an end open)"},
			&cli.BoolFlag{Name: "no-summary", Usage: "do not print the per-connection summary"},
			&cli.IntFlag{Name: "max-streams", Value: analysis.DefaultMaxStreams, Usage: "keep state for at most `N` connections, forgetting finished ones first, then the least recently used (bounds memory on long captures and SYN floods; -1 = no limit)"},
			&cli.Float64Flag{Name: "speed", Usage: "play back at the captured pace times `FACTOR` (1 = real time, 2 = twice as fast; 0 = at once)"},
			&cli.BoolFlag{Name: "explain", Usage: "under each segment, show every header field: offset, wire bytes, ntohs/ntohl value, meaning (as tcpscope decode)"},
			&cli.BoolFlag{Name: "step", Usage: "show one segment per key: Enter/space next, b back, x header fields (ntohs/ntohl view) on/off, q quit (needs a terminal)"},
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "save the frames shown (after the filter, --stream, --frames, -c) to `OUT`, records byte-identical: .pcapng with each frame's note as a packet comment (Wireshark shows it), else pcap; - for pcap on stdout (the lines then go to stderr)"},
			forceFlag(),
			&cli.StringFlag{Name: "r", Usage: "read the capture from `FILE` (as tcpdump -r); the arguments are then all filter"},
			displayFilterFlag(),
			colorFlag(),
			screenFlags()[0], screenFlags()[1],
		}, tcpdumpFlags()...),
		Action: stoppable(func(c *cli.Context) error {
			path, expr := c.String("r"), c.Args().Slice()
			var more []string // further files, merged by time stamp
			if path == "" && len(expr) > 0 {
				var files []string
				files, expr = captureFiles(expr)
				if len(files) > 0 {
					path, more = files[0], files[1:]
				}
			}
			if path == "" {
				return usageError("replay needs a capture file (or - for stdin); see 'tcpscope replay --help'")
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			if c.Int("count") < 0 {
				return usageError("-c %d: the count must be a positive number of segments", c.Int("count"))
			}
			from, to, err := parseRange(c.String("frames"))
			if err != nil {
				return err
			}
			o := showOptions{JSON: c.Bool("json"), Absolute: c.Bool("absolute"), Color: col, Count: c.Int("count"),
				Stream: c.Int("stream"), FromFrame: from, ToFrame: to, Summary: !c.Bool("no-summary"), MaxStreams: maxStreams(c), Explain: c.Bool("explain")}
			if err := applyTcpdumpFlags(c, &o); err != nil {
				return err
			}
			lines := e.stdout // where the segment lines go
			if w := c.String("write"); w != "" {
				o.Save = &saver{path: w, force: c.Bool("force"), out: e.stdout}
				if w == "-" {
					if c.Bool("step") {
						return usageError("-w - writes the capture to stdout, which --step needs for its pages")
					}
					lines = e.stderr
				}
			}
			if o.Display, err = displayFilter(c); err != nil {
				return err
			}
			speed := c.Float64("speed")
			if speed < 0 {
				return usageError("--speed %v: the factor must be 0 (as fast as possible) or more", speed)
			}
			if speed > 0 {
				o.Pace = replay.NewPacer(speed)
			}
			var flt *bpf.Filter
			if len(expr) > 0 {
				flt = bpf.New(expr...)
				defer flt.Close()
				o.Filter = flt.Match
			}
			width, ascii, stdout, stderr, flush := screen(c, e, lines)
			defer flush()
			o.Width, o.Glyphs = width, ascii
			if c.Bool("step") {
				if speed > 0 {
					return usageError("--step and --speed cannot be combined: --step waits for a key instead")
				}
				if path == "-" {
					return usageError("--step reads keys from the terminal, so the capture cannot come from stdin; give a file")
				}
				in, ok := e.stdin.(*os.File)
				if !ok || !term.IsTerminal(int(in.Fd())) {
					return usageError("--step needs a terminal on stdin to read keys from (stdin is not a terminal)")
				}
				if len(more) > 0 {
					return usageError("--step pages one file; merge the files first (replay A B -w merged.pcapng)")
				}
				total, err := countFrames(path)
				if err != nil {
					return runtimeError(err)
				}
				st := &replay.Stepper{Keys: in, Total: total}
				if out, ok := e.stdout.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
					cols, rows, err := term.GetSize(int(out.Fd()))
					if err == nil && rows > 2 {
						st.Rows, st.Cols = rows, cols
					}
				}
				old, err := term.MakeRaw(int(in.Fd()))
				if err != nil {
					return runtimeError(fmt.Errorf("--step: cannot put the terminal in raw mode: %v", err))
				}
				// Restored on every way out: q, Ctrl-C (a key in raw mode),
				// SIGTERM (ctx), an error, a panic.
				defer term.Restore(int(in.Fd()), old)
				// Lines in raw mode end in CRLF; the stepper pages
				// them itself, so only the compact layout applies.
				stdout, stderr = replay.CRLF{W: e.stdout}, replay.CRLF{W: e.stderr}
				if st.Cols > 0 && !c.Bool("wide") {
					o.Width = st.Cols
				}
				st.Out, st.Status = stdout, stderr
				o.Step = st
			}
			var f frame.Source
			if len(more) > 0 {
				// Several files: one timeline, merged by time stamp.
				if path == "-" || slices.Contains(more, "-") {
					return usageError("- (stdin) cannot be merged with other files")
				}
				names := append([]string{path}, more...)
				var srcs []frame.Source
				for _, n := range names {
					rf, err := replay.OpenContext(c.Context, n, e.stdin)
					if err != nil {
						return runtimeError(err)
					}
					defer rf.Close()
					srcs = append(srcs, rf.Source)
				}
				f = replay.Merge(names, srcs)
				path = strings.Join(names, "+")
			} else if o.Step == nil && o.Pace == nil && e.stdoutFile {
				// Replaying into a file: a progress bar on stderr when it
				// is a terminal and the capture is large.
				src, done, err := openCapture(c.Context, e, path)
				if err != nil {
					return runtimeError(err)
				}
				defer done()
				f = src
			} else {
				rf, err := replay.OpenContext(c.Context, path, e.stdin)
				if err != nil {
					return runtimeError(err)
				}
				defer rf.Close()
				f = rf
			}
			o.File = path != "-" // a pipe delivers frames as they come: no read-ahead batches
			err = showSegments(c.Context, path, f, o, stdout, stderr)
			if o.Save != nil {
				// Closed whatever happened: what was shown is saved whole.
				if cerr := o.Save.close(e.stderr); cerr != nil && err == nil {
					err = cerr
				}
			}
			if err != nil {
				var ee *bpf.ExprError
				if errors.As(err, &ee) {
					return usageError("%v", ee)
				}
				if errors.Is(err, session.ErrNoStream) {
					return usageError("%v", err)
				}
				return runtimeError(err)
			}
			if c.Context.Err() != nil {
				return cli.Exit("", exitInterrupted)
			}
			return nil
		}),
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

// captureFiles splits replay's arguments into the capture files that lead
// them and the filter expression after: an argument is a file when it names
// one, or is a glob pattern (quoted, so the shell left it) matching some;
// "-" is stdin. The first other word starts the filter ("tcp port 80").
func captureFiles(args []string) (files, expr []string) {
	for i, a := range args {
		switch {
		case a == "-":
			files = append(files, a)
			continue
		case strings.ContainsAny(a, "*?["):
			if m, _ := filepath.Glob(a); len(m) > 0 {
				files = append(files, m...)
				continue
			}
		default:
			if _, err := os.Stat(a); err == nil {
				files = append(files, a)
				continue
			}
		}
		if i == 0 {
			// Not a file: still the capture's name, so that a missing
			// file is reported as missing rather than as a filter.
			return []string{a}, args[1:]
		}
		return files, args[i:]
	}
	return files, nil
}

// countFrames reads the capture at path once to learn how many frames it
// has, for --step's "frame 12/122".
func countFrames(path string) (int, error) {
	f, err := replay.Open(path, nil)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for {
		_, err := f.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
}

// maxStreams reads --max-streams: 0 would mean "the default" to the
// analyzer, which would surprise a user who typed it, so 0 and below mean
// no limit.
func maxStreams(c *cli.Context) int {
	if n := c.Int("max-streams"); n > 0 {
		return n
	}
	return -1
}
