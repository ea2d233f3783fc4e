package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/tcpscope/tcpscope/dfilter"
)

// displayFilterFlag is -Y/--display-filter, as tshark spells it.
func displayFilterFlag() cli.Flag {
	return &cli.StringFlag{Name: "display-filter", Aliases: []string{"Y"},
		Usage: "show only frames matching the Wireshark display filter `EXPR` (tcp.analysis.flags, tcp.stream == 3, tcp.analysis.ack_rtt > 0.2; 'tcpscope fields' lists the fields); the analysis still sees every frame"}
}

// displayFilter compiles -Y, or returns nil when it is not given. A bad
// filter is a usage error: the message on one line, then the filter with
// a caret under the bad token, as tshark prints it.
func displayFilter(c *cli.Context) (*dfilter.Filter, error) {
	if !c.IsSet("display-filter") {
		return nil, nil
	}
	f, err := dfilter.Compile(c.String("display-filter"))
	var de *dfilter.Error
	if errors.As(err, &de) {
		return nil, cli.Exit(fmt.Sprintf("-Y: %s\n%s", de.Error(), de.Caret("    ")), exitUsage)
	}
	if err != nil {
		return nil, usageError("-Y: %v", err)
	}
	return f, nil
}

// noMatch says, as tshark does not but a user wants to know, that a
// display filter selected nothing: an empty output is not an error.
func noMatch(w io.Writer, f *dfilter.Filter) {
	fmt.Fprintf(w, "tcpscope: no frame matches the display filter %q\n", f.String())
}

// fieldsCommand is `tcpscope fields`: every display-filter field with its
// type and meaning, as `tshark -G fields` lists Wireshark's.
func fieldsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "fields",
		Usage: "list the fields a display filter (-Y) can use, with their types and meanings",
		Description: `Prints one line per field: its name, its Wireshark type and what it
means. The names and meanings are Wireshark's (tshark -G fields), so a
filter written for Wireshark works unchanged with -Y on replay, stats,
ladder, graph and capture.

A bare field tests presence: tcp.analysis.retransmission selects frames
that have the verdict, but tcp.flags.syn (a boolean, present on every
segment) selects every segment; write tcp.flags.syn == 1.

Examples:
   tcpscope fields
   tcpscope fields | grep analysis`,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("fields takes no arguments")
			}
			bw := bufio.NewWriter(e.stdout)
			for _, f := range dfilter.Fields() {
				fmt.Fprintf(bw, "%-36s %-17s %s\n", f.Name, f.Type, f.Blurb)
			}
			return bw.Flush()
		},
	}
}
