package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/ref/echo"
	"github.com/tcpscope/tcpscope/ref/httpref"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// tracer prints socket calls to the terminal, one per line; verbose adds
// the sockaddr byte-order details and data previews.
func tracer(e *env, verbose bool, quiet bool) sock.Tracer {
	if quiet {
		return nil
	}
	var mu sync.Mutex
	return func(ev sock.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(e.stderr, ev.Format(verbose))
	}
}

func serverCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "server",
		Usage: "run a reference server: the lecture's TCP echo server, or an HTTP/1.1 file server",
		Description: `The servers make each socket call explicitly (socket, setsockopt, bind,
listen, accept, read, write, close) and print it on stderr as it returns,
so the class can watch the Berkeley sockets API at work. -v also shows each
sockaddr's port and address in host and network byte order.

The echo server handles one client at a time (an iterative server) and
echoes whatever each read returns, however short. So that one client cannot
hold it for ever, a client idle for --idle-timeout (30s) or connected for
--max-session (5m) is closed (FIN), with a line on stderr, and the next
client is served; 0 switches a limit off. The HTTP server serves the files
under --root (GET and HEAD).

Examples:
   tcpscope server                               # echo on 127.0.0.1:7000
   tcpscope server --addr [::1]:7000 -v
   tcpscope server --http --addr 127.0.0.1:8000 --root ./site
   sudo tcpscope capture tcp port 7000           # in another terminal: watch the segments`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "http", Usage: "serve files over HTTP/1.1 instead of echoing"},
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:7000", Usage: "listen on `HOST:PORT` (port 0: the kernel picks one)"},
			&cli.StringFlag{Name: "root", Value: ".", Usage: "with --http: serve files from `DIR`"},
			&cli.IntFlag{Name: "max-conns", Usage: "exit after `N` connections (0: serve until Ctrl-C)"},
			&cli.DurationFlag{Name: "idle-timeout", Value: echo.DefaultIdleTimeout, Usage: "echo: close a client that sends nothing for `DURATION` (0: never)"},
			&cli.DurationFlag{Name: "max-session", Value: echo.DefaultMaxSession, Usage: "echo: close a client `DURATION` after it connected, to serve the next (0: never)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show byte-order details of addresses and data previews"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print socket calls"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("server takes no arguments (got %q); use --addr", strings.Join(c.Args().Slice(), " "))
			}
			ap, err := netip.ParseAddrPort(c.String("addr"))
			if err != nil {
				return usageError("--addr %q: want an IP and port such as 127.0.0.1:7000 or [::1]:7000", c.String("addr"))
			}
			tr := tracer(e, c.Bool("verbose"), c.Bool("quiet"))
			var srv interface {
				Addr() netip.AddrPort
				Serve(context.Context) error
			}
			kind := "echo"
			if c.Bool("http") {
				s, err := httpref.Listen(httpref.ServerConfig{Addr: ap, Root: c.String("root"), Trace: tr, Log: e.stderr, MaxConns: c.Int("max-conns")})
				if err != nil {
					return runtimeError(err)
				}
				srv, kind = s, "HTTP"
			} else {
				s, err := echo.Listen(echo.ServerConfig{Addr: ap, Trace: tr, Log: e.stderr, MaxConns: c.Int("max-conns"),
					IdleTimeout: offIfZero(c.Duration("idle-timeout")), MaxSession: offIfZero(c.Duration("max-session"))})
				if err != nil {
					return runtimeError(err)
				}
				srv = s
			}
			fmt.Fprintf(e.stdout, "%s server listening on %s (Ctrl-C to stop)\n", kind, srv.Addr())
			if err := srv.Serve(c.Context); err != nil {
				return runtimeError(err)
			}
			return nil
		},
	}
}

func clientCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "client",
		Usage:     "run a reference client: send lines to an echo server, or fetch a URL over HTTP/1.1",
		ArgsUsage: "ADDR [MSG...] | --http URL",
		Description: `The echo client resolves the host (the getaddrinfo step), then socket,
connect, and for each message write then read until the whole echo is
back, and close; with no MSG it reads lines from stdin. The HTTP client
fetches a URL from the reference server or any HTTP/1.x server and prints
status line, headers and body (no TLS). Socket calls go to stderr.

Examples:
   tcpscope client 127.0.0.1:7000 hello "network byte order"
   echo hi | tcpscope client localhost:7000
   tcpscope client --http http://127.0.0.1:8000/index.html`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "http", Usage: "fetch ADDR as an http:// URL"},
			&cli.BoolFlag{Name: "reset", Usage: "echo: end with an abortive close (RST) instead of FIN"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show byte-order details of addresses and data previews"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print socket calls"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("client needs an address (HOST:PORT) or, with --http, a URL")
			}
			tr := tracer(e, c.Bool("verbose"), c.Bool("quiet"))
			if c.Bool("http") {
				if c.NArg() > 1 {
					return usageError("client --http takes one URL")
				}
				if _, err := httpref.Fetch(c.Context, httpref.ClientConfig{URL: c.Args().First(), Trace: tr, Out: e.stdout}); err != nil {
					return runtimeError(err)
				}
				return nil
			}
			cfg := echo.ClientConfig{Addr: c.Args().First(), Lines: c.Args().Tail(), Trace: tr, Out: e.stdout, Reset: c.Bool("reset")}
			if len(cfg.Lines) == 0 {
				cfg.Stdin = e.stdin
			}
			if _, err := echo.RunClient(c.Context, cfg); err != nil {
				return runtimeError(err)
			}
			return nil
		},
	}
}

// offIfZero maps a command-line duration to an echo.ServerConfig limit: on
// the command line 0 means "no limit", while in ServerConfig 0 means the
// default and a negative value means none.
func offIfZero(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
