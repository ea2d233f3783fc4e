package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

// Exit codes, as documented in --help.
const (
	exitOK       = 0 // success (send: the replies matched)
	exitError    = 1 // a runtime error: unreadable file, capture failure, …
	exitUsage    = 2 // bad command line
	exitMismatch = 3 // send: the server's replies differ from the captured ones
)

// env carries what a command needs from the outside world, so tests can
// substitute buffers for the standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdoutTTY reports whether stdout is a terminal (decides colour and
	// progress output).
	stdoutTTY bool
}

// run executes the command line args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stdout.(*os.File); ok {
		e.stdoutTTY = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(e)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "tcpscope: "+msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "tcpscope: "+oneLine(err.Error()))
	if isUsageError(err) {
		return exitUsage
	}
	return exitError
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

Exit codes: 0 success, 1 runtime error, 2 bad command line, 3 send: replies differ.`,
		Reader:                 e.stdin,
		Writer:                 e.stdout,
		ErrWriter:              e.stderr,
		HideVersion:            true,
		UseShortOptionHandling: false,
		ExitErrHandler:         func(*cli.Context, error) {}, // run() prints and exits, not urfave
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
		},
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return usageError("%v (see 'tcpscope %s --help')", err, c.Command.Name)
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
	rest := args[i+1:]
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
