package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/demo"
)

func demoCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "run the lecture demo: a real client and server on loopback, every packet explained",
		ArgsUsage: "[basic|http]",
		Description: `Starts the reference server on a free loopback port, captures the traffic
to it, runs a scripted client exchange, and prints the session: each socket
call (socket, bind, listen, accept, connect, read, write, close) among the
segments it caused, every segment annotated, then a per-connection summary.
The capture is written to -w (default: a new file whose path is printed).

The demo runs in a private network namespace where it owns loopback, so no
other traffic shows and --loss rules vanish afterwards. As root that is all;
otherwise it also creates a user namespace (no sudo needed where the kernel
allows it).

Scenarios:
   basic   the TCP echo server and client: two lines sent and echoed
   http    the HTTP/1.1 file server and client: one GET

Examples:
   sudo tcpscope demo
   sudo tcpscope demo http --loss 10
   sudo tcpscope demo --slow-reader       # zero window, window probes, window update
   sudo tcpscope demo --reset --ipv6      # abortive close (RST) over ::1
   sudo tcpscope demo --json -w demo.pcapng`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "loss", Usage: "drop `PCT` percent of packets at random (nftables): retransmissions, duplicate ACKs, fast retransmissions"},
			&cli.BoolFlag{Name: "slow-reader", Usage: "the server waits before reading: zero window, window probes, window update"},
			&cli.BoolFlag{Name: "reset", Usage: "the client ends with an abortive close (SO_LINGER 0): RST instead of FIN"},
			&cli.BoolFlag{Name: "ipv6", Usage: "talk over ::1 instead of 127.0.0.1"},
			&cli.BoolFlag{Name: "json", Usage: "segments and socket calls as JSON lines on stdout (docs/packet-json.md); everything else on stderr"},
			&cli.IntFlag{Name: "strsize", Value: 32, Usage: "show at most `N` bytes of the data of a read or write and of a segment (as strace -s)"},
			&cli.BoolFlag{Name: "step", Usage: "wait for Enter before each event"},
			&cli.BoolFlag{Name: "explain", Usage: "under each segment, show every header field with its wire bytes and ntohs/ntohl value"},
			&cli.StringFlag{Name: "write", Aliases: []string{"w"}, Usage: "write the capture to `FILE` (.pcapng or .pcap)"},
			forceFlag(),
			&cli.BoolFlag{Name: "check-privileges", Usage: "only check that the demo can capture here; exit 0 if so", Hidden: true},
			colorFlag(),
		},
		Action: func(c *cli.Context) error {
			scenario := c.Args().First()
			if scenario == "" {
				scenario = "basic"
			}
			if scenario != "basic" && scenario != "http" {
				return usageError("unknown demo %q: choose basic or http", scenario)
			}
			if c.NArg() > 1 {
				return usageError("demo takes one scenario, got %q", strings.Join(c.Args().Slice(), " "))
			}
			if l := c.Int("loss"); l < 0 || l > 90 {
				return usageError("--loss must be between 0 and 90 percent")
			}
			if c.Int("strsize") < 1 {
				return usageError("--strsize must be at least 1")
			}
			if !demo.Inside() {
				return reexecDemo(c, e)
			}
			if c.Bool("check-privileges") {
				return nil
			}
			col, err := useColor(c, e)
			if err != nil {
				return err
			}
			path, err := demo.Run(c.Context, demo.Options{
				Scenario: scenario, LossPct: c.Int("loss"), SlowReader: c.Bool("slow-reader"), Reset: c.Bool("reset"),
				IPv6: c.Bool("ipv6"), JSON: c.Bool("json"), Color: col, Step: c.Bool("step"), Keys: e.stdin, Explain: c.Bool("explain"),
				Output: c.String("write"), Force: c.Bool("force"), StrSize: c.Int("strsize"),
			}, e.stdout, e.stderr)
			if path != "" {
				fmt.Fprintf(e.stderr, "tcpscope: capture written to %s (open it with: tcpscope replay %s)\n", path, path)
			}
			if err != nil {
				return runtimeError(err)
			}
			return nil
		},
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
	// Ctrl-C reaches the child too (same process group); wait for it to
	// finish writing its capture.
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return cli.Exit("", ee.ExitCode())
	}
	if err != nil {
		return runtimeError(err)
	}
	return nil
}
