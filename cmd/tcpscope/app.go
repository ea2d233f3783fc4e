package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/internal/ctxio"
	"github.com/tcpscope/tcpscope/render"
)

// Exit codes, as documented in --help.
const (
	exitOK       = 0 // success (send: the replies matched)
	exitError    = 1 // a runtime error: unreadable file, capture failure, …
	exitUsage    = 2 // bad command line
	exitMismatch = 3 // send: the server's replies differ from the captured ones
	// exitBrokenPipe is 128 + SIGPIPE, what a shell reports for a program
	// killed by SIGPIPE (cat, tcpdump): the reader of stdout went away,
	// as in "tcpscope replay big.pcap | head". Nothing is printed.
	exitBrokenPipe = 141
)

// env carries what a command needs from the outside world, so tests can
// substitute buffers for the standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdoutTTY reports whether stdout is a terminal (decides colour and
	// progress output).
	stdoutTTY bool
	// stdoutFile: standard output is a regular file (replay > out.txt).
	stdoutFile bool
	// width is the terminal's width in columns when stdout is a terminal
	// (0 otherwise): replay and demo fit their lines to it (see screen).
	// stderrWidth is the same for stderr.
	width, stderrWidth int
	// asciiLocale: stdout is a terminal whose locale (LC_ALL, LC_CTYPE,
	// LANG) is not UTF-8, so → ▸ µ are spelled in ASCII, as with --ascii.
	asciiLocale bool
}

// run executes the command line args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(args, stdin, stdout, stderr, nil)
}

// runWith is run with a hook that may change the environment found (tests
// give a terminal's width to a buffer).
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer, adjust func(*env)) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	var pipe *pipeOut
	if f, ok := stdout.(*os.File); ok {
		e.stdoutTTY = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			e.stdoutFile = true
		}
		if !e.stdoutTTY {
			// A pipe nobody reads blocks a write for ever: the signal
			// must still stop it (internal/ctxio).
			w, release := ctxio.Writer(ctx, f)
			defer release()
			pipe = &pipeOut{w: w}
			e.stdout = pipe
		} else {
			e.width = termWidth(f)
			e.asciiLocale = !utf8Locale(os.Getenv)
		}
	}
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		e.stderrWidth = termWidth(f)
	}
	// SIGPIPE is caught rather than left to kill the process, so a write to
	// a closed pipe fails with EPIPE: the command then stops as at the end
	// of its input, still closing its -w file (a capture piped into head
	// keeps a valid file), and run exits with 141 without a word.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)
	if adjust != nil {
		adjust(e)
	}
	app := newApp(e)
	if len(args) == 0 || args[len(args)-1] != "--generate-bash-completion" {
		// Completion needs the words as typed: urfave/cli looks for its
		// flag at the very end.
		args = reorderArgs(app, args)
	}
	err := app.RunContext(ctx, args)
	if pipe != nil && pipe.broken.Load() {
		return exitBrokenPipe
	}
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			stderr.Write(render.Wrap(nil, "tcpscope: "+msg, e.stderrWidth, 4))
		}
		return ec.ExitCode()
	}
	if isUsageError(err) {
		// urfave/cli's own messages (a missing required flag, …) get the
		// hint every other usage error carries.
		msg := oneLine(err.Error())
		if !strings.Contains(msg, "--help") {
			msg += " (see 'tcpscope --help')"
		}
		stderr.Write(render.Wrap(nil, "tcpscope: "+msg, e.stderrWidth, 4))
		return exitUsage
	}
	stderr.Write(render.Wrap(nil, "tcpscope: "+oneLine(err.Error()), e.stderrWidth, 4))
	return exitError
}

// pipeOut is stdout when it is not a terminal. It remembers that the
// reader went away (EPIPE), whatever error a command then makes of the
// failed write, so run can exit quietly: that is how a pipeline such as
// "| head -1" ends, not a failure worth a message.
type pipeOut struct {
	w      io.Writer
	broken atomic.Bool
}

func (p *pipeOut) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		p.broken.Store(true)
	}
	return n, err
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}

// isUsageError recognises urfave/cli's parse errors.
func isUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "No help topic", "Required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// usageError is a bad command line: printed, exit code 2.
func usageError(format string, a ...any) error {
	return cli.Exit(fmt.Sprintf(format, a...), exitUsage)
}

// runtimeError is a failure at run time: printed, exit code 1.
func runtimeError(err error) error {
	return cli.Exit(oneLine(err.Error()), exitError)
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:  "tcpscope",
		Usage: "see TCP at work: decode, explain and replay TCP sessions",
		Description: `tcpscope shows every TCP segment of a capture with what it means: the
three-way handshake, data and its ACKs, retransmissions, window changes and
the teardown, judged by the same rules as Wireshark's TCP analysis.

Flags may come before or after file names, as with tcpdump.

Exit codes: 0 success (also a capture stopped by Ctrl-C or SIGTERM), 1 runtime
error (unreadable or corrupt file, capture failure, disk full), 2 bad command
line, 3 send: replies differ, 130 replay, decode, stats, follow, ladder or graph stopped by Ctrl-C or
SIGTERM (at once, even while waiting for input or for a full stdout), 141
stdout closed by its reader (as in "tcpscope replay big.pcap | head -1"; the
command stops quietly, like a program killed by SIGPIPE).`,
		Reader:                 e.stdin,
		Writer:                 e.stdout,
		ErrWriter:              e.stderr,
		HideVersion:            true,
		UseShortOptionHandling: false,
		ExitErrHandler:         func(*cli.Context, error) {}, // run() prints and exits, not urfave
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "version", Usage: "print the version, the commit it was built from and the Go version"},
		},
		// Without a command: --version, or the help. A word that is not a
		// command is a typo far more often than a help topic.
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				fmt.Fprintln(e.stdout, versionLine())
				return nil
			}
			if c.NArg() > 0 {
				return unknownCommand(c.App, c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			replayCommand(e),
			decodeCommand(e),
			captureCommand(e),
			demoCommand(e),
			serverCommand(e),
			clientCommand(e),
			sendCommand(e),
			statsCommand(e),
			followCommand(e),
			ladderCommand(e),
			graphCommand(e),
			viewCommand(e),
			versionCommand(e),
			completionCommand(e),
			manCommand(e),
			fieldsCommand(e),
		},
		EnableBashCompletion: true,
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return usageError("%v (see 'tcpscope --help')", err)
		},
	}
	// A flag error in any command is one line and exit 2, not the whole
	// help text: the help is one --help away and would bury the message.
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			name := c.Name
			c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
				return usageError("%v (see 'tcpscope %s --help')", err, name)
			}
		}
	}
	return app
}

// reorderArgs moves flags that follow positional arguments in front of
// them, for every subcommand, so that "tcpscope replay F --json" works like
// "tcpscope replay --json F". urfave/cli v2 stops parsing flags at the first
// positional argument; tcpdump users expect otherwise. "--" ends flags.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	i := 1
	for ; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			cmd = app.Command(args[i])
			break
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	out := append([]string{}, args[:i+1]...)
	var flags, pos []string
	rest := splitAttached(args[i+1:], takesValue)
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			pos = append(pos, rest[j+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if k := strings.IndexByte(name, '='); k >= 0 {
				continue
			}
			if takesValue[name] && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
			continue
		}
		pos = append(pos, a)
	}
	out = append(out, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// unknownCommand is the one line for "tcpscope replya x": the nearest
// command by spelling, and exit 2 (a bad command line).
func unknownCommand(app *cli.App, name string) error {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	if n := nearest(name, names); n != "" {
		return usageError("no command %q: did you mean 'tcpscope %s'? (see 'tcpscope --help')", name, n)
	}
	return usageError("no command %q (commands: %s; see 'tcpscope --help')", name, strings.Join(names, ", "))
}

// splitAttached splits a one-letter flag and its value written together, as
// tcpdump users write them ("-c1", "-s0", "-ilo"), into two arguments, when
// the letter is a flag that takes a value and the whole word is not itself
// a flag name ("-nn", "-tt"). Arguments after "--" are left alone.
func splitAttached(args []string, takesValue map[string]bool) []string {
	var out []string
	for k, a := range args {
		if a == "--" {
			return append(out, args[k:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && !strings.Contains(a, "=") {
			if _, known := takesValue[a[1:]]; !known && takesValue[a[1:2]] {
				out = append(out, a[:2], a[2:])
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// colorFlag is shared by every command that prints segments.
func colorFlag() cli.Flag {
	return &cli.StringFlag{Name: "color", Value: "auto", Usage: "colour output: auto (when stdout is a terminal and NO_COLOR is unset), always, never"}
}

// useColor decides colour once, from --color, the terminal and NO_COLOR.
func useColor(c *cli.Context, e *env) (bool, error) {
	switch c.String("color") {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		_, noColor := os.LookupEnv("NO_COLOR")
		return e.stdoutTTY && !noColor, nil
	}
	return false, usageError("--color must be auto, always or never, not %q", c.String("color"))
}

// forceFlag is shared by every command that writes a file. Without it an
// existing file is refused; with it a regular file is replaced (a new file
// renamed over it). A symlink is refused either way: see internal/safefile.
func forceFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Usage: "replace an existing output file (a symlink is still refused)"}
}

// unwrapPathErr drops *os.PathError's "op /path:" prefix where the message
// names the file itself.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stoppable wraps the Action of a command that reads a capture (replay,
// decode, stats, follow, ladder, graph): a SIGINT or SIGTERM ends
// it with exit 130 and no message, as replay does, instead of the
// "context canceled" of whichever read or write it interrupted.
func stoppable(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		err := action(c)
		if c.Context.Err() != nil {
			return cli.Exit("", exitInterrupted)
		}
		return err
	}
}
