package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/demo"
	"github.com/tcpscope/tcpscope/replay"
)

func demoCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "run the lecture demo: a real client and server on loopback, every packet explained",
		ArgsUsage: "[basic|http]",
		Description: `Starts the reference server on a loopback port, captures the traffic to
it, runs a scripted client exchange, and prints the session: each socket
call (socket, bind, listen, accept, connect, read, write, close) among the
segments it caused, every segment annotated, then a per-connection summary.
Each side's TCP state, with the names of RFC 9293's diagram, is shown where
it changes: on the call that causes it (listen → LISTEN, connect → SYN-SENT,
close → FIN-WAIT-1 or LAST-ACK) or on the segment ("client: SYN-SENT →
ESTABLISHED"), and at the end in the summary. On a terminal every line fits
its width (--wide: full lines; --ascii: -> > us for → ▸ µ).

The capture of the last session is kept in $XDG_CACHE_HOME/tcpscope/last-demo.pcapng
(default ~/.cache/tcpscope; replaced by each run; run through sudo, the
invoking user's folder, and the file is theirs); -w FILE writes it there
instead, -w - writes a pcap to standard output (the text then goes to
standard error).

The demo runs in a private network namespace where it owns loopback, so no
other traffic shows, any --port is free and --loss rules vanish afterwards.
As root that is all; otherwise it also creates a user namespace (no sudo
needed where the kernel allows it).

Scenarios:
   basic   the iterative TCP echo server and its client: two lines sent and echoed
   http    the HTTP/1.1 file server (one goroutine per client) and client: one GET

Every option combines with every other, in both scenarios.

Your own programs: --server CMD and --client CMD run them in place of the
reference server and client (give one alone and the reference peer plays
the other side; the reference server then listens on port 8080, or --port).
Their socket calls are traced as strace does (ptrace: no change to the
program; forks, threads and exec followed) and shown among the segments,
with their output lines tagged by side. The client starts once the server
has called listen. A server that loops on accept is stopped (SIGTERM) once
the client has exited and the connection is closed. CMD is split into words
(quotes group them); no shell runs unless you give sh -c '...'. They run
with no more privilege than you: under sudo as you, as root directly as
nobody (unless --as-root), in the unprivileged path as uid 0 of the demo's
user namespace, which is your own user outside.

Examples:
   sudo tcpscope demo
   sudo tcpscope demo http --loss 10
   sudo tcpscope demo --slow-reader       # zero window, window probes, window update
   sudo tcpscope demo --reset --ipv6      # abortive close (RST) over ::1
   sudo tcpscope demo --half-close        # the server still sends after the client's FIN
   sudo tcpscope demo --mss 500           # one write, several segments
   sudo tcpscope demo --clients 3         # the listen backlog of an iterative server
   sudo tcpscope demo --port 8080 --step  # as on the slide, one event per key
   sudo tcpscope demo --json -w demo.pcapng
   make examples && sudo tcpscope demo --server 'examples/c/server 8080' --client 'examples/c/client 127.0.0.1 8080'`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "loss", Usage: "drop `PCT` percent of packets at random (nftables): retransmissions, duplicate ACKs, fast retransmissions"},
			&cli.BoolFlag{Name: "slow-reader", Usage: "the receiving side (basic: the server; http: the client) waits before reading: zero window, window probes, window update"},
			&cli.BoolFlag{Name: "reset", Usage: "the client ends with an abortive close (SO_LINGER 0): RST instead of FIN"},
			&cli.BoolFlag{Name: "half-close", Usage: "the client shutdown(SHUT_WR)s after sending and reads on while the server still sends (CLOSE-WAIT with data flowing)"},
			&cli.IntFlag{Name: "mss", Usage: fmt.Sprintf("set TCP_MAXSEG to `N` bytes (%d-%d) on both sides: one write leaves as several segments", demo.MinMSS, demo.MaxMSS)},
			&cli.IntFlag{Name: "clients", Value: 1, Usage: fmt.Sprintf("run `N` clients at once (up to %d): basic shows the listen backlog of the one-at-a-time server, http its concurrent serving", demo.MaxClients)},
			&cli.IntFlag{Name: "port", Usage: "the server binds port `N` (as on a slide); default 0: the kernel chooses and getsockname tells"},
			&cli.BoolFlag{Name: "ipv6", Usage: "talk over ::1 instead of 127.0.0.1"},
			&cli.BoolFlag{Name: "host-loopback", Value: !demo.Namespaces(), DefaultText: "on where there are no network namespaces (macOS, FreeBSD)", Usage: "run the peers on this machine's own loopback instead of a private network namespace, the capture filtered to the server's port (so Wireshark on lo can watch too); needs root to capture; --loss needs the namespace"},
			&cli.BoolFlag{Name: "json", Usage: "segments and socket calls as JSON lines on stdout (docs/packet-json.md); everything else on stderr"},
			&cli.IntFlag{Name: "strsize", Value: 32, Usage: "show at most `N` bytes of the data of a read or write and of a segment (as strace -s)"},
			&cli.BoolFlag{Name: "step", Usage: "page the session one event per key once the peers are done: Enter/space next, b back, x header fields, q or Ctrl-C quit (needs a terminal)"},
			&cli.BoolFlag{Name: "tui", Usage: "show the session full-screen as it happens, in tcpscope view: segments and socket calls as they come (the list follows the newest until you move up)"},
			&cli.BoolFlag{Name: "explain", Usage: "under each segment, show every header field with its wire bytes and ntohs/ntohl value"},
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write the capture to `FILE` (.pcapng or .pcap; - for a pcap on stdout) instead of the last-session file"},
			forceFlag(),
			&cli.StringFlag{Name: "server", Usage: "run your own server `CMD` instead of the reference one, its socket calls traced"},
			&cli.StringFlag{Name: "client", Usage: "run your own client `CMD` instead of the reference one, its socket calls traced"},
			&cli.StringFlag{Name: "client-stdin", Usage: "with --client: the client's standard input is `FILE` (default: empty)"},
			&cli.DurationFlag{Name: "timeout", Value: demo.DefaultTimeout, Usage: "with --server/--client: stop a program still running after `DURATION`"},
			&cli.BoolFlag{Name: "as-root", Usage: "with --server/--client as root (not via sudo): run them as root instead of as nobody"},
			&cli.BoolFlag{Name: "check-privileges", Usage: "only check that the demo can capture here; exit 0 if so", Hidden: true},
			colorFlag(),
			screenFlags()[0], screenFlags()[1],
		},
		Action: func(c *cli.Context) error {
			scenario := c.Args().First()
			if scenario == "" {
				scenario = "basic"
			}
			if c.NArg() > 1 {
				return usageError("demo takes one scenario, got %q", strings.Join(c.Args().Slice(), " "))
			}
			o := demo.Options{
				Scenario: scenario, LossPct: c.Int("loss"), SlowReader: c.Bool("slow-reader"), Reset: c.Bool("reset"),
				HalfClose: c.Bool("half-close"), MSS: c.Int("mss"), Clients: c.Int("clients"), Port: c.Int("port"),
				IPv6: c.Bool("ipv6"), HostLoopback: c.Bool("host-loopback"), JSON: c.Bool("json"), Explain: c.Bool("explain"), Output: c.String("write"),
				Force: c.Bool("force"), StrSize: c.Int("strsize"),
			}
			if o.StrSize < 1 {
				return usageError("--strsize must be at least 1")
			}
			for _, p := range []struct {
				flag string
				argv *[]string
			}{{"server", &o.Server}, {"client", &o.Client}} {
				if !c.IsSet(p.flag) {
					continue
				}
				words, err := demo.SplitCommand(c.String(p.flag))
				if err != nil {
					return usageError("--%s: %v", p.flag, err)
				}
				*p.argv = words
			}
			if c.IsSet("client-stdin") && o.Client == nil {
				return usageError("--client-stdin is the standard input of your --client program: give --client CMD too")
			}
			if c.Duration("timeout") <= 0 {
				return usageError("--timeout must be positive (e.g. 30s)")
			}
			o.ClientStdin, o.Timeout, o.AsRoot = c.String("client-stdin"), c.Duration("timeout"), c.Bool("as-root")
			if err := demo.Check(o); err != nil {
				return usageError("%v", err)
			}
			if c.IsSet("clients") && o.Clients < 1 {
				return usageError("--clients %d: from 1 to %d clients", o.Clients, demo.MaxClients)
			}
			toStdout := o.Output == "-"
			if toStdout && e.stdoutTTY {
				return usageError("-w - writes a binary capture to standard output, which is a terminal: redirect it (> file.pcap, | tcpscope replay -) or give a file name")
			}
			if toStdout && o.JSON {
				return usageError("-w - and --json both want standard output: write the capture to a file instead (-w demo.pcap)")
			}
			if c.Bool("tui") && (toStdout || o.JSON || c.Bool("step")) {
				return usageError("--tui shows the session itself: not with -w -, --json or --step")
			}
			var keys *os.File
			if c.Bool("step") {
				if toStdout {
					return usageError("--step pages the session on the terminal: it cannot be combined with -w - (write the capture to a file)")
				}
				in, ok := e.stdin.(*os.File)
				if !ok || !term.IsTerminal(int(in.Fd())) {
					return usageError("--step needs a terminal on stdin to read keys from (stdin is not a terminal)")
				}
				keys = in
			}
			if o.HostLoopback && !demo.Inside() {
				fmt.Fprintf(e.stderr, "tcpscope demo: on this machine's own loopback (%s), the capture filtered to the server's port; other programs' traffic to that port would show too\n", capture.Loopback())
			} else if !demo.Inside() {
				return reexecDemo(c, e)
			}
			if c.Bool("check-privileges") {
				return nil
			}
			if o.Server != nil && c.Bool("slow-reader") && scenario == "basic" {
				fmt.Fprintln(e.stderr, "tcpscope demo: --slow-reader slows the reference server only; your server reads when it calls read")
			}
			if o.Client != nil && (c.Bool("reset") || c.Bool("half-close")) {
				fmt.Fprintln(e.stderr, "tcpscope demo: --reset and --half-close change the reference client only; your client closes as it closes")
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			o.Color = col
			stdout, stderr := e.stdout, e.stderr
			if toStdout {
				o.CaptureTo, stdout = e.stdout, e.stderr
			}
			// Lines fit the terminal; paging (--step) lays segments out
			// for its width but writes its pages itself.
			width, ascii, sout, serr, flush := screen(c, e, stdout)
			defer flush()
			o.Width, o.ASCII = width, ascii
			if keys == nil {
				stdout, stderr = sout, serr
			}
			if o.Output == "" {
				dir, owner, err := demo.CacheDir(os.Getenv)
				if err != nil {
					fmt.Fprintf(e.stderr, "tcpscope demo: warning: the session is not kept: %v\n", err)
				}
				o.CacheFolder, o.CacheOwner = dir, owner
			}
			if keys != nil {
				o.Pager = stepPager(keys, stdout, stderr)
			}
			if c.Bool("tui") {
				return demoTUI(c, o, col, e)
			}
			saved, err := demo.Run(c.Context, o, stdout, stderr)
			switch {
			case saved.Last:
				fmt.Fprintf(stderr, "tcpscope: this session is kept in %s until the next demo (open it with: tcpscope replay %s)\n", saved.Path, saved.Path)
			case saved.Path != "" && isRegular(saved.Path):
				fmt.Fprintf(stderr, "tcpscope: capture written to %s (open it with: tcpscope replay %s)\n", saved.Path, saved.Path)
			}
			if c.Context.Err() != nil {
				return cli.Exit("", exitInterrupted)
			}
			if errors.Is(err, demo.ErrProgramFailed) {
				return cli.Exit("", exitError) // the line saying how is printed
			}
			if err != nil {
				return runtimeError(err)
			}
			return nil
		},
	}
}

// stepPager returns demo --step's pager: the terminal goes into raw mode
// only once the peers are done (until then Ctrl-C is a signal that stops
// them), keys are read one byte at a time, and the screen is redrawn with
// a status line, as in replay --step.
func stepPager(in *os.File, stdout, stderr interface{ Write([]byte) (int, error) }) func() (*replay.Stepper, func(), error) {
	return func() (*replay.Stepper, func(), error) {
		st := &replay.Stepper{Keys: in}
		if out, ok := stdout.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
			if cols, rows, err := term.GetSize(int(out.Fd())); err == nil && rows > 2 {
				st.Rows, st.Cols = rows, cols
			}
		}
		old, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return nil, nil, fmt.Errorf("--step: cannot put the terminal in raw mode: %v", err)
		}
		st.Out, st.Status = replay.CRLF{W: stdout}, replay.CRLF{W: stderr}
		return st, func() { term.Restore(int(in.Fd()), old) }, nil
	}
}

// reexecDemo runs the same command line again inside a private network
// namespace (see demo.NamespacedCommand) and passes its exit code on.
func reexecDemo(c *cli.Context, e *env) error {
	args := os.Args[1:]
	cmd, err := demo.NamespacedCommand(args)
	if err != nil {
		return runtimeError(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	if e.stdoutTTY && c.String("color") == "auto" {
		// The child's stdout is the same terminal, but it cannot tell when
		// it is passed through a pipe by exec; say it explicitly.
		cmd.Args = append(cmd.Args, "--color", "always")
		if _, noColor := os.LookupEnv("NO_COLOR"); noColor {
			cmd.Args[len(cmd.Args)-1] = "never"
		}
	}
	err = cmd.Start()
	if err != nil {
		if errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "operation not permitted") || strings.Contains(err.Error(), "permission denied") {
			return cli.Exit(demo.PrivilegeHint, exitError)
		}
		return runtimeError(fmt.Errorf("demo: cannot start in a network namespace: %v", err))
	}
	// Ctrl-C reaches the child itself (same process group, same terminal);
	// a SIGTERM sent to this process is passed on, so the child stops its
	// peers, prints what it has and exits. Either way this process waits
	// for it to finish writing its capture.
	done := make(chan struct{})
	go func() {
		select {
		case <-c.Context.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = exitInterrupted // killed by a signal
		}
		return cli.Exit("", code)
	}
	if err != nil {
		return runtimeError(err)
	}
	return nil
}

// isRegular reports whether path is a regular file (not /dev/null, a FIFO).
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
