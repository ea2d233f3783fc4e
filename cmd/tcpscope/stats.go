package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/ctxio"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/session"
)

func statsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "one line per TCP connection: who, how long, how much, how well, how it ended",
		ArgsUsage: "FILE",
		Description: `Reads a capture and prints one row per connection (Wireshark's tcp.stream
numbering): the client and server (the SYN's sender is the client; without
the handshake the end with the higher port, marked "?"), when it started
(seconds from the first frame) and how long it lasted, packets and bytes each
way (bytes are whole frames, as Wireshark's Conversations window counts them;
"data" is the TCP payload), how long the handshake took (from the first SYN,
resent SYNs included), retransmissions, duplicate ACKs and zero-window
advertisements, and how it ended, in the words of the replay summary: closed
by both (FIN), half-closed by one side (FIN), reset by one side, refused (the
SYN was answered by RST), still open, or handshake incomplete. A totals row
comes last. With --json, "handshake" is that time in seconds and
"handshake_rtt" Wireshark's initial RTT (from the latest SYN).

Use it first on an unknown capture, then look closer at one connection with
"tcpscope ladder", "follow" or "graph" and its --stream number.

Examples:
   tcpscope stats pcaps/zeek-http-206_example_a.pcap
   tcpscope stats capture.pcapng --json | jq '.connections[] | select(.retransmissions > 0)'`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object: connections and totals"},
			displayFilterFlag(),
		},
		Action: stoppable(func(c *cli.Context) error {
			path, err := oneFile(c, "stats")
			if err != nil {
				return err
			}
			df, err := displayFilter(c)
			if err != nil {
				return err
			}
			src, done, err := openCapture(c.Context, e, path)
			if err != nil {
				return runtimeError(err)
			}
			defer done()
			// The table shows no notes and no bytes in flight, so the
			// analyzer works out neither (unless a display filter asks
			// for the bytes).
			noBIF := df == nil || !df.Uses("tcp.analysis.bytes_in_flight") && !df.Uses("tcp.analysis.push_bytes_sent")
			an := analysis.New(analysis.Options{NoNotes: true, NoBytesInFlight: noBIF})
			// The table shows no checksum verdicts, so none are computed
			// (summing every byte is the costliest part of decoding), and
			// only each frame's headers are copied unless a display filter
			// looks at payloads. A file is read on one goroutine, decoded
			// and analysed on another, counted on a third.
			skip := df == nil || !df.Uses("tcp.checksum.status")
			file := path != "-"
			pl := pipeline.NewWith(src, an, pipeline.Options{Parallel: file, AnalysisStage: file, DecodeLate: file, NoQuotedFrames: true,
				Decode: decode.DecodeOptions{SkipChecksums: skip}, HeadersOnly: df == nil || !df.Uses("tcp.payload")})
			defer pl.Close()
			var tab session.Table
			defer tab.Close()
			var links linkSkips // frames of link types decode does not read
			frames := 0
			var matched streamSet
			for n := 0; ; n++ {
				if n&1023 == 0 && c.Context.Err() != nil {
					return runtimeError(c.Context.Err())
				}
				it, err := pl.NextRef()
				if err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					return runtimeError(fmt.Errorf("%s: %w", path, err))
				}
				frames++
				if unsupported(it.Frame.Meta.Link, it.DecodeErr) {
					links.add(e.stderr, path, it.Frame.Meta)
				}
				tab.Add(it)
				if df != nil && df.Match(it) && it.Analyzed {
					matched.set(it.Result.Stream)
				}
			}
			done()
			if err := links.report(e.stderr, path, frames, true); err != nil {
				return runtimeError(err)
			}
			write := session.WriteStatsText
			if c.Bool("json") {
				write = session.WriteStatsJSON
			}
			conns := tab.All()
			if df != nil {
				// Only the connections with a matching frame, with their
				// whole-capture counts.
				conns = func(yield func(session.Conn) bool) {
					for c := range tab.All() {
						if matched.has(c.Stream) && !yield(c) {
							return
						}
					}
				}
				if len(matched) == 0 {
					noMatch(e.stderr, df)
					return nil
				}
			}
			if err := write(e.stdout, conns, pl.First.Time); err != nil {
				return err
			}
			if err := tab.Err(); err != nil {
				return runtimeError(err)
			}
			return nil
		}),
	}
}

// oneFile returns the single FILE argument of a command, or a usage error.
func oneFile(c *cli.Context, name string) (string, error) {
	if c.NArg() != 1 {
		return "", usageError("%s takes one capture file (or - for stdin); see 'tcpscope %s --help'", name, name)
	}
	return c.Args().First(), nil
}

// progressMin is the file size from which reading shows a progress bar:
// smaller captures are read before anyone could look at a bar.
const progressMin = 32 << 20

// openCapture opens a capture like replay.Open, and for a large file read
// while stderr is a terminal draws a progress bar there (never into a pipe
// or a log). The returned function finishes the bar and closes the file;
// calling it twice is harmless.
func openCapture(ctx context.Context, e *env, path string) (frame.Source, func(), error) {
	f, ok := e.stderr.(*os.File)
	tty := ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
	var size int64
	if tty && path != "-" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	if size < progressMin {
		rf, err := replay.OpenContext(ctx, path, e.stdin)
		if err != nil {
			return nil, nil, err
		}
		closed := false
		return rf, func() {
			if !closed {
				closed = true
				rf.Close()
			}
		}, nil
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(e.stderr), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("reading "+path), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	pr := progressbar.NewReader(file, bar)
	in, release := ctxio.Reader(ctx, &pr) // gzip inflating stops at a signal
	src, err := replay.NewReader(in)
	if err != nil {
		release()
		file.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	closed := false
	return src, func() {
		if !closed {
			closed = true
			_ = bar.Finish()
			release()
			file.Close()
		}
	}, nil
}

// streamSet is a set of stream numbers, one bit each: a capture may have
// millions of connections.
type streamSet []uint64

func (s *streamSet) set(n int) {
	for len(*s) <= n/64 {
		*s = append(*s, 0)
	}
	(*s)[n/64] |= 1 << (n % 64)
}

func (s streamSet) has(n int) bool { return n/64 < len(s) && s[n/64]&(1<<(n%64)) != 0 }
