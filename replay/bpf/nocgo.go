//go:build !cgo

package bpf

import (
	"strings"

	"github.com/tcpscope/tcpscope/frame"
)

// Filter matches frames against one expression: libpcap compiles it (loaded
// at run time, see libpcap_dl.go), and the program runs in Run, this
// package's BPF interpreter. Programs are compiled per link type on first
// sight. A Filter is not safe for concurrent use.
type Filter struct {
	expr  string
	progs map[frame.LinkType][]Insn
}

// New returns a filter for expr, which may be given as several words
// (joined with spaces, as tcpdump does with its arguments). An empty
// expression matches every frame.
func New(expr ...string) *Filter {
	return &Filter{expr: strings.TrimSpace(strings.Join(expr, " ")), progs: map[frame.LinkType][]Insn{}}
}

// Expr returns the expression as compiled.
func (f *Filter) Expr() string { return f.expr }

// Close forgets the compiled programs (Go memory: nothing to free).
func (f *Filter) Close() { clear(f.progs) }

// Compile compiles the expression for link now, so a mistake is reported
// before any frame is read. Match compiles on demand as well.
func (f *Filter) Compile(link frame.LinkType) error {
	if f.expr == "" {
		return nil
	}
	_, err := f.Program(link)
	return err
}

// Program returns the compiled program for link (for a kernel socket
// filter, or tests).
func (f *Filter) Program(link frame.LinkType) ([]Insn, error) {
	if p, ok := f.progs[link]; ok {
		return p, nil
	}
	dlt := int(link)
	if link == frame.LinkRaw {
		dlt = dltRaw
	}
	p, err := compile(dlt, snaplen, f.expr)
	if err != nil {
		return nil, &ExprError{Expr: f.expr, Link: link, Err: err}
	}
	f.progs[link] = p
	return p, nil
}

// Match reports whether fr passes the filter. The error is an *ExprError
// when the expression does not compile for the frame's link type.
func (f *Filter) Match(fr frame.Frame) (bool, error) {
	return match(f.expr, fr, f.Program, func(p []Insn, data []byte, wire uint32) bool {
		return Run(p, data, wire) != 0
	})
}
