package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tcpscope/tcpscope/render"
)

// termWidth is the width of the terminal f in columns, from the kernel
// (TIOCGWINSZ), else from $COLUMNS, else 80.
func termWidth(f *os.File) int {
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
		return w
	}
	return 80
}

// utf8Locale reports whether the locale's character set is UTF-8, by the
// usual precedence (LC_ALL, then LC_CTYPE, then LANG; the first one set
// decides). With none set we assume UTF-8: that is what terminals in
// containers and minimal systems, where LANG is often unset, display.
func utf8Locale(getenv func(string) string) bool {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(k); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return true
}

// screenFlags are replay's and demo's: the full line, and ASCII glyphs.
func screenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "wide", Usage: "on a terminal too, print each segment on one full line (addresses, options), as into a pipe or file"},
		&cli.BoolFlag{Name: "ascii", Usage: "spell → ▸ µ as -> > us (automatic on a terminal whose locale is not UTF-8)"},
	}
}

// screen says how replay and demo lay out their lines: width is the
// terminal's width for the compact layout (0 with --wide, or off a
// terminal: full lines, so goldens, pipes and files are unchanged), ascii
// whether to spell → ▸ µ in ASCII. The returned writers fit every line to
// the width (call lines, summary and messages too; lines is where the
// segment lines go, stdout or stderr); flush writes what is
// left of a partial line.
func screen(c *cli.Context, e *env, lines io.Writer) (width int, ascii bool, stdout, stderr io.Writer, flush func()) {
	ascii = c.Bool("ascii") || e.asciiLocale
	width = e.width
	if c.Bool("wide") {
		width = 0
	}
	stdout, stderr = lines, e.stderr
	var outs []*render.Screen
	if c.Bool("json") {
		// JSON lines stay exactly as the contract has them, one per line.
		width = 0
	} else if width > 0 || ascii {
		s := &render.Screen{W: lines, Width: width, ASCII: ascii}
		stdout, outs = s, append(outs, s)
	}
	if e.stderrWidth > 0 && !c.Bool("wide") || ascii {
		w := e.stderrWidth
		if c.Bool("wide") {
			w = 0
		}
		s := &render.Screen{W: e.stderr, Width: w, ASCII: ascii}
		stderr, outs = s, append(outs, s)
	}
	return width, ascii, stdout, stderr, func() {
		for _, s := range outs {
			s.Flush()
		}
	}
}
