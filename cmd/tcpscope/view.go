package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/demo"
	"github.com/tcpscope/tcpscope/dfilter"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/view"
)

func viewCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "view",
		Usage:     "browse a capture full-screen: packets, fields with ntohs/ntohl, lit bytes, ladder",
		ArgsUsage: "FILE",
		Description: `Opens a capture (pcap, pcapng, compressed, or - for stdin) in a
full-screen browser: the packet list as replay prints it, the field view of
the selected packet as decode prints it (offset, raw bytes in network order,
ntohs/ntohl, host value, meaning), the frame's bytes with the selected
field's bytes lit, and on request the ladder of its connection.

A large file opens at once: an index of its frames is built in the
background (the status line shows how far). A compressed file or standard
input is first copied, uncompressed, to a temporary file, deleted on exit.

Keys: ↑↓/jk move, PgUp/PgDn, g/G first/last, Tab/Shift-Tab between panes,
Enter on a field lights its bytes, :N go to frame N, /EXPR a display filter,
Esc every frame again, s one connection, r the frame this one refers to,
n/N next/previous flagged frame, l ladder, f follow, w save the frames shown,
? help, q quit.

Examples:
   tcpscope view pcaps/lo-bulk-loss.pcap
   tcpscope view --color never pcaps/zeek-tcp-retransmit-fast009.pcap`,
		Flags: []cli.Flag{colorFlag()},
		Action: stoppable(func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("view needs exactly one capture file (or - for stdin); see 'tcpscope view --help'")
			}
			color := true
			switch c.String("color") {
			case "never":
				color = false
			case "always":
			case "auto", "":
				_, noColor := os.LookupEnv("NO_COLOR")
				color = !noColor
			default:
				return usageError("--color must be auto, always or never, not %q", c.String("color"))
			}
			name := c.Args().First()
			ctx, stop := hangup(c.Context)
			defer stop()
			path, cleanup, err := plainCapture(ctx, name, e.stdin)
			if err != nil {
				return runtimeError(err)
			}
			defer cleanup()
			err = view.Run(ctx, view.Options{Path: path, Name: name, Color: color, Filter: viewFilter})
			switch {
			case errors.Is(err, view.ErrInterrupted):
				return cli.Exit("", exitInterrupted)
			case err != nil:
				return runtimeError(err)
			}
			return nil
		}),
	}
}

// hangup is ctx, also ended by SIGHUP: the view's terminal closed (a
// window shut, an ssh connection lost) must still remove the temporary
// files and leave as after q.
func hangup(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, syscall.SIGHUP)
}

// plainCapture returns a plain pcap or pcapng file holding the capture
// name: name itself when it is one (the view reads frames again at their
// offsets), else a temporary copy of its frames, uncompressed (stdin, a
// pipe, gzip and the other compressions replay reads), which cleanup
// deletes.
func plainCapture(ctx context.Context, name string, stdin io.Reader) (path string, cleanup func(), err error) {
	nothing := func() {}
	if name != "-" {
		f, err := os.Open(name)
		if err == nil {
			fi, serr := f.Stat()
			if serr == nil && fi.Mode().IsRegular() {
				src, rerr := replay.NewReader(f)
				_, plain := src.(replay.Positioned)
				f.Close()
				if rerr == nil && plain {
					return name, nothing, nil
				}
			} else {
				f.Close()
			}
		}
	}
	src, err := replay.OpenContext(ctx, name, stdin)
	if err != nil {
		return "", nothing, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp("", "tcpscope-view-*.pcap")
	if err != nil {
		return "", nothing, fmt.Errorf("a temporary copy of %s: %w", name, err)
	}
	cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
	var w *capture.Writer
	for {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if w == nil {
				cleanup()
				return "", nothing, fmt.Errorf("%s: %w", name, err)
			}
			break // what was read before the fault is still shown
		}
		if w == nil {
			if w, err = capture.NewWriter(tmp, tmp.Name(), f.Meta.Link, 262144); err != nil {
				cleanup()
				return "", nothing, err
			}
		}
		if err := w.Write(f); err != nil {
			cleanup()
			return "", nothing, fmt.Errorf("a temporary copy of %s: %w", name, err)
		}
	}
	if w == nil {
		cleanup()
		return "", nothing, fmt.Errorf("%s holds no frame", name)
	}
	if err := w.Close(); err != nil {
		cleanup()
		return "", nothing, err
	}
	return tmp.Name(), cleanup, nil
}

// viewFilter compiles what is typed after '/' in the view: -Y's language
// (package dfilter), the same filter replay -Y applies.
func viewFilter(expr string) (view.Matcher, error) {
	f, err := dfilter.Compile(expr)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// captureTUI shows a live capture in the view until the user quits.
func captureTUI(ctx context.Context, c *cli.Context, src frame.Source, lt frame.LinkType, iface string) error {
	color := c.String("color") != "never"
	if _, noColor := os.LookupEnv("NO_COLOR"); noColor && c.String("color") != "always" {
		color = false
	}
	ctx, stop := hangup(ctx)
	defer stop()
	err := view.RunLive(ctx, view.Options{Name: iface, Color: color, Filter: viewFilter}, view.Live{Src: src})
	switch {
	case errors.Is(err, view.ErrInterrupted):
		return cli.Exit("", exitInterrupted)
	case err != nil:
		return runtimeError(err)
	}
	return nil
}

// demoTUI runs the demo with its frames and socket calls shown in the view
// as they happen. The timeline the demo prints at the end is not printed
// (the view showed it); its messages (warnings, where the capture is kept)
// come after the view has given the terminal back.
func demoTUI(c *cli.Context, o demo.Options, color bool, e *env) error {
	feed := view.NewFeed()
	o.Live = demo.LiveHooks{Frame: feed.Frame, Call: feed.Call}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	msgs := &lockedBuffer{}
	type result struct {
		saved demo.Saved
		err   error
	}
	done := make(chan result, 1)
	go func() {
		saved, err := demo.Run(ctx, o, io.Discard, msgs)
		feed.Close()
		done <- result{saved, err}
	}()
	hctx, stop := hangup(c.Context)
	defer stop()
	verr := view.RunLive(hctx, view.Options{Name: "demo", Color: color, Filter: viewFilter}, view.Live{Src: feed})
	cancel() // the user quit: the peers stop if they are still running
	r := <-done
	e.stderr.Write(msgs.Bytes())
	if r.saved.Last {
		fmt.Fprintf(e.stderr, "tcpscope: this session is kept in %s until the next demo (open it with: tcpscope view %s)\n", r.saved.Path, r.saved.Path)
	} else if r.saved.Path != "" && isRegular(r.saved.Path) {
		fmt.Fprintf(e.stderr, "tcpscope: capture written to %s (open it with: tcpscope view %s)\n", r.saved.Path, r.saved.Path)
	}
	switch {
	case errors.Is(verr, view.ErrInterrupted) || c.Context.Err() != nil:
		return cli.Exit("", exitInterrupted)
	case verr != nil:
		return runtimeError(verr)
	case errors.Is(r.err, demo.ErrProgramFailed):
		return cli.Exit("", exitError)
	case r.err != nil && !errors.Is(r.err, context.Canceled):
		return runtimeError(r.err)
	}
	return nil
}

// lockedBuffer is a bytes.Buffer several goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
