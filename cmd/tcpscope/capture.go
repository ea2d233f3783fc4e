package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
)

func captureCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "capture",
		Usage:     "capture live traffic (loopback by default) and explain each TCP segment as it arrives",
		ArgsUsage: "[FILTER...]",
		Description: `Captures on an interface with libpcap, as tcpdump does, and prints every TCP
segment with the analyzer's note. FILTER is a BPF expression in tcpdump's
syntax (e.g. "tcp port 8080"). Ctrl-C or SIGTERM stops cleanly (exit 0): the
-w file is complete, and the kernel's received/dropped counts are printed.

If the -w file cannot be written (disk full), the capture stops with one line
saying so and exit 1; the file is cut back to its last whole frame, so it
stays readable. If the interface goes away (deleted, down, moved to another
network namespace), one line names it, and exit 1; the file is complete.

Capturing needs root or CAP_NET_RAW (sudo, or
sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tcpscope)).

Dropped packets: to a terminal each packet is shown at once (immediate mode);
to a file or a pipe packets are taken from the kernel in blocks (up to 100 ms
late) and, without -w, only their headers are kept, so a full-speed loopback
transfer (several GB/s) loses none. If the kernel still reports drops, raise -B.
With -w, the file is written apart from the lines: when stdout is read too
slowly (a pipe to a slow program), frames still go to the file, and those the
lines had to skip are counted at the end.

Examples:
   sudo tcpscope capture tcp port 8080
   sudo tcpscope capture -i eth0 -c 20 -w first20.pcapng
   sudo tcpscope capture --run 'curl -s http://127.0.0.1:8000/' tcp port 8000
   tcpscope capture --list-interfaces`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE` (default: the loopback interface, lo or lo0)"},
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "also write the frames to `FILE` (.pcapng for pcapng, else pcap with ns timestamps); - writes pcap to stdout (| wireshark -k -i -) and the lines to stderr"},
			forceFlag(),
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "stop after `N` TCP segments"},
			&cli.IntFlag{Name: "snaplen", Aliases: []string{"s"}, DefaultText: "256, or 262144 with -w", Usage: "keep at most `BYTES` of each frame: without -w only the headers (all that capture shows; the analysis uses the lengths on the wire), so hundreds of times more packets fit the kernel's buffer"},
			&cli.IntFlag{Name: "buffer-size", Aliases: []string{"B"}, Value: capture.DefaultBufferSize >> 10, Usage: "kernel capture buffer in `KiB`, as tcpdump -B; raise it if packets are dropped by the kernel"},
			&cli.BoolFlag{Name: "immediate-mode", Usage: "show each packet the moment it arrives (the default when output is a terminal; to a file or pipe packets come in blocks, up to 100 ms late, so a fast transfer loses none)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON lines (docs/packet-json.md)"},
			&cli.BoolFlag{Name: "tui", Usage: "show the packets full-screen as they arrive, in tcpscope view (the list follows the newest until you move up; G follows again)"},
			&cli.BoolFlag{Name: "absolute", Aliases: []string{"S"}, Usage: "print raw sequence numbers"},
			&cli.IntFlag{Name: "max-streams", Value: analysis.DefaultMaxStreams, Usage: "keep state for at most `N` connections, forgetting finished ones first, then the least recently used (bounds memory on long captures and SYN floods; -1 = no limit)"},
			&cli.BoolFlag{Name: "list-interfaces", Aliases: []string{"D"}, Usage: "list the interfaces you can capture on, and exit"},
			&cli.StringFlag{Name: "run", Usage: "run `CMD` (with sh -c) once capture has started; stop when it exits"},
			&cli.BoolFlag{Name: "trace", Usage: "with --run: show CMD's socket calls (traced with ptrace, as strace does) among the segments they caused"},
			&cli.BoolFlag{Name: "as-root", Usage: "with --run --trace as root: run CMD as root (otherwise: as the sudo user, or nobody)"},
			&cli.IntFlag{Name: "file-size", Aliases: []string{"C"}, Usage: "with -w: start a new file when the current one passes `MB` millions of bytes (as tcpdump -C: FILE, FILE1, FILE2, …)"},
			&cli.IntFlag{Name: "file-count", Aliases: []string{"W"}, Usage: "with -C: a ring of `N` files, the oldest overwritten (FILE0 … FILE(N-1)); with -G alone: stop after N files (as tcpdump -W)"},
			&cli.IntFlag{Name: "rotate-seconds", Aliases: []string{"G"}, Usage: "with -w: start a new file every `SECONDS`; the name goes through strftime, e.g. -w 'cap-%H%M%S.pcap' (as tcpdump -G)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "with -w -: no annotated lines on stderr, only the capture on stdout"},
			displayFilterFlag(),
			colorFlag(),
			screenFlags()[0], screenFlags()[1],
		}, tcpdumpFlags()...),
		Action: func(c *cli.Context) error {
			if c.Bool("list-interfaces") {
				ifs, err := capture.Interfaces()
				if err != nil {
					return runtimeError(err)
				}
				for i, s := range ifs {
					fmt.Fprintf(e.stdout, "%d. %s\n", i+1, s)
				}
				return nil
			}
			if c.Int("count") < 0 {
				return usageError("-c %d: the count must be a positive number of segments", c.Int("count"))
			}
			rot, err := rotateOptions(c)
			if err != nil {
				return err
			}
			if kib := c.Int("buffer-size"); kib < 0 || kib > 1<<21 {
				return usageError("-B %d: the buffer is in KiB, as tcpdump's: between 1 and %d (2 GiB)", kib, 1<<21)
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			df, err := displayFilter(c)
			if err != nil {
				return err
			}
			snaplen := c.Int("snaplen")
			// A filter on the payload needs it captured, not only the headers.
			headersOnly := snaplen <= 0 && c.String("write") == "" && (df == nil || !df.Uses("tcp.payload"))
			if snaplen <= 0 {
				snaplen = capture.DefaultSnaplen
				if headersOnly {
					snaplen = capture.HeaderSnaplen
				}
			}
			h, err := capture.Open(capture.Options{
				Interface: c.String("interface"), Snaplen: snaplen, Filter: strings.Join(c.Args().Slice(), " "),
				Immediate: e.stdoutTTY || c.Bool("immediate-mode"), BufferSize: c.Int("buffer-size") << 10,
			})
			var fe *capture.FilterError
			if errors.As(err, &fe) {
				return usageError("%v", err) // a bad expression is a bad command line, as in replay
			}
			if err != nil {
				return runtimeError(err)
			}
			defer h.Close()
			var w capture.FrameWriter
			stdout := e.stdout
			if p := c.String("write"); p == "-" {
				// pcap on stdout, for "| wireshark -k -i -"; the annotated
				// lines move to stderr (none with -q).
				sw, err := capture.NewStreamWriter(e.stdout, h.LinkType(), snaplen)
				if err != nil {
					return runtimeError(err)
				}
				w = sw
				stdout = e.stderr
				if c.Bool("quiet") {
					stdout = io.Discard
				}
			} else if rot.SizeMB > 0 || rot.Interval > 0 {
				rw, err := capture.CreateRotating(p, h.LinkType(), snaplen, rot)
				if err != nil {
					return runtimeError(err)
				}
				w = rw
			} else if p != "" {
				fw, err := capture.Create(p, h.LinkType(), snaplen, c.Bool("force"))
				if err != nil {
					return runtimeError(err)
				}
				w = fw
			}
			// With -w, the file is written in a goroutine of its own that
			// never waits for the lines (stdout may be a slow pipe); the
			// lines get the frames through a bounded queue.
			var src frame.Source = h
			var rec *capture.Recorder
			if w != nil {
				var annotate func(frame.Frame) string
				if strings.HasSuffix(c.String("write"), ".pcapng") {
					// Each frame carries its note as a packet comment,
					// which Wireshark shows; the recorder analyses the
					// frames itself, so the file never waits for stdout.
					annotate = render.NewAnnotator().Note
				}
				rec = capture.NewAnnotatingRecorder(h, w, 0, annotate)
				src = rec
			}
			ctx, cancel := context.WithCancel(c.Context)
			defer cancel()
			go func() { <-ctx.Done(); h.Stop() }()
			var runErr error
			var calls *liveCalls
			var traced <-chan struct{}
			var tracedErr *error
			if c.Bool("trace") && c.String("run") == "" {
				return usageError("--trace shows the calls of the --run command: give --run CMD")
			}
			if cmdline := c.String("run"); cmdline != "" && c.Bool("trace") {
				calls = &liveCalls{json: c.Bool("json")}
				traced, tracedErr, err = startTraced(ctx, cmdline, c.Bool("as-root"), calls, e.stderr, e.stderr)
				if err != nil {
					return runtimeError(err)
				}
				go func() {
					<-traced
					time.Sleep(200 * time.Millisecond) // let the last packets arrive
					cancel()
				}()
			} else if cmdline != "" {
				cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stderr, e.stderr
				if err := cmd.Start(); err != nil {
					return runtimeError(fmt.Errorf("--run %q: %v", cmdline, err))
				}
				go func() {
					runErr = cmd.Wait()
					time.Sleep(200 * time.Millisecond) // let the last packets arrive
					cancel()
				}()
			}
			if c.Bool("tui") {
				if c.Bool("json") || c.String("write") == "-" || calls != nil {
					return usageError("--tui shows the packets itself: not with --json, -w - or --trace")
				}
				err := captureTUI(ctx, c, src, h.LinkType(), h.Interface())
				cancel() // stops the capture
				if rec != nil {
					rec.Wait()
					if werr := w.Close(); werr != nil && err == nil {
						err = runtimeError(werr)
					}
				}
				return err
			}
			// On a terminal the lines fit its width, as replay's do.
			width, glyphs, sout, serr, flush := screen(c, e, stdout)
			defer flush()
			stdout = sout
			fmt.Fprintf(serr, "tcpscope: capturing on %s (%s)%s; Ctrl-C to stop\n", h.Interface(), h.LinkType(), filterNote(c.Args().Slice()))
			o := showOptions{JSON: c.Bool("json"), Absolute: c.Bool("absolute"), Color: col, Count: c.Int("count"), Stream: -1, Summary: true, MaxStreams: maxStreams(c), LineBuffered: e.stdoutTTY, HeadersOnly: headersOnly, Display: df}
			if err := applyTcpdumpFlags(c, &o); err != nil {
				return err
			}
			o.Width, o.Glyphs = width, glyphs
			if calls != nil {
				calls.text = &render.Text{W: stdout, Theme: render.NewTheme(col), StrSize: sock.DefaultStrSize, Width: width, ASCII: glyphs}
				calls.js = &render.JSON{W: stdout, StrSize: sock.DefaultStrSize}
				o.Hook = calls.hook
				o.BeforeSummary = func() {
					calls.until(time.Time{})
					if calls.dropped > 0 {
						fmt.Fprintf(serr, "tcpscope: %d socket calls of --run were not shown (more than %d waited for a segment)\n", calls.dropped, maxPending)
					}
				}
			}
			if c.Bool("quiet") && c.String("write") != "-" {
				return usageError("-q (no lines) is for -w -, where stdout carries the capture itself")
			}
			// The lines run until the source ends: a signal (or --run's
			// end) stops the handle, and every frame captured up to then
			// is shown. Only a stdout nobody reads cuts them short (its
			// writes give up after the signal, see internal/ctxio).
			showErr := showSegments(context.WithoutCancel(ctx), h.Interface(), src, o, stdout, serr)
			if showErr != nil && c.Context.Err() != nil && errors.Is(showErr, context.Canceled) {
				showErr = nil // stopped by the signal while stdout was stuck
			}
			if rec != nil {
				// The display stopped early (-c, an error): stop recording.
				h.Stop()
				rec.Wait()
			}
			if st, err := h.Stats(); err == nil {
				fmt.Fprintf(serr, "tcpscope: %s received by the kernel, %d dropped by the kernel (buffer full), %d dropped by the interface\n", nOf(st.Received, "packet"), st.Dropped, st.IfDropped)
			}
			if w != nil {
				if n := rec.NotShown(); n > 0 {
					fmt.Fprintf(serr, "tcpscope: %s written to %s but not shown: the output was read too slowly (the lines and the analysis skip them)\n", nOf(n, "frame"), w.Name())
				}
				if err := w.Close(); err != nil {
					// The Writer cut the file back to its last whole frame.
					return runtimeError(fmt.Errorf("%v (capture stopped; the file holds the first %s)", err, nOf(w.Count(), "frame")))
				}
				fmt.Fprintf(serr, "tcpscope: wrote %s to %s\n", nOf(w.Count(), "frame"), outputNames(w))
			}
			if showErr != nil {
				// A capture that broke off names its interface itself;
				// showSegments's "lo: " prefix would name it twice.
				var re *capture.ReadError
				if errors.As(showErr, &re) {
					return runtimeError(re)
				}
				return runtimeError(showErr)
			}
			if traced != nil {
				<-traced
				runErr = *tracedErr
			}
			if runErr != nil {
				return runtimeError(fmt.Errorf("--run %q: %v", c.String("run"), runErr))
			}
			return nil
		},
	}
}

// outputNames names what -w wrote: the file, or the files of a rotation.
func outputNames(w capture.FrameWriter) string {
	r, ok := w.(*capture.Rotating)
	if !ok {
		return w.Name()
	}
	var uniq []string
	seen := map[string]bool{}
	for _, n := range r.Names() {
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	if len(uniq) == 1 {
		return uniq[0]
	}
	return fmt.Sprintf("%d files (%s)", len(uniq), strings.Join(uniq, ", "))
}

// rotateOptions reads tcpdump's -C, -W and -G.
func rotateOptions(c *cli.Context) (capture.RotateOptions, error) {
	o := capture.RotateOptions{SizeMB: c.Int("file-size"), Files: c.Int("file-count"), Interval: time.Duration(c.Int("rotate-seconds")) * time.Second, Force: c.Bool("force")}
	switch {
	case o.SizeMB < 0 || o.Files < 0 || o.Interval < 0:
		return o, usageError("-C, -W and -G take positive numbers")
	case (o.SizeMB > 0 || o.Interval > 0) && c.String("write") == "":
		return o, usageError("-C and -G split the -w file: give -w FILE")
	case c.String("write") == "-" && (o.SizeMB > 0 || o.Interval > 0):
		return o, usageError("-C and -G split a file; -w - is a stream")
	case o.Files > 0 && o.SizeMB == 0 && o.Interval == 0:
		return o, usageError("-W counts the files of -C or -G: give one of them")
	}
	return o, nil
}

func filterNote(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return ", filter " + strings.Join(args, " ")
}
