// Package dfilter implements Wireshark's display-filter language (tshark
// -Y, `man wireshark-filter`) over tcpscope's decoded frames and its TCP
// analysis, so a filter written for Wireshark selects the same frames:
//
//	tcp.analysis.retransmission && tcp.stream == 3
//	tcp.analysis.ack_rtt > 0.2
//	ip.addr == 10.0.0.0/8 and tcp.port in {80, 443, 8000..8100}
//	tcp.payload[0:4] == 47:45:54:20 || tcp.payload matches "^HTTP/1\\.[01] 5"
//
// Fields mean what they mean in tshark 4.0 (see Fields), including where
// that differs from tcpscope's JSON: tcp.analysis.retransmission is set on
// fast and spurious retransmissions too, tcp.seq is relative, and a
// multi-valued field (ip.addr, tcp.port, tcp.options.sack_le) passes ==
// when any value does and != only when every value does ("all not
// equal", Wireshark 4.0's meaning; ~= and !== are "any not equal").
//
// A filter is parsed and type-checked once by Compile into a tree of
// closures with every buffer it needs, so Match allocates nothing. The
// parser is written by hand: no Go library implements Wireshark's grammar,
// whose literals take their meaning from the field they are compared with.
package dfilter

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tcpscope/tcpscope/pipeline"
)

// Error is a syntax or type error in a filter, with the place it points at.
type Error struct {
	Expr     string // the whole filter
	Pos, End int    // byte offsets of the bad token in Expr (End == Pos at the end)
	Msg      string // one line, in Wireshark's words where it has them
}

// Error returns the message alone, on one line.
func (e *Error) Error() string { return e.Msg }

// Caret returns two lines: the filter, and a caret with tildes under the
// bad token (as tshark prints them), each indented by indent.
func (e *Error) Caret(indent string) string {
	col := utf8.RuneCountInString(e.Expr[:e.Pos])
	width := utf8.RuneCountInString(e.Expr[e.Pos:e.End])
	mark := "^"
	if width > 1 {
		mark += strings.Repeat("~", width-1)
	}
	expr := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r == '\r' {
			return ' '
		}
		return r
	}, e.Expr)
	return indent + expr + "\n" + indent + strings.Repeat(" ", col) + mark
}

func errAt(expr string, pos, end int, format string, args ...any) error {
	return &Error{Expr: expr, Pos: pos, End: max(end, pos), Msg: fmt.Sprintf(format, args...)}
}

// evalCtx is what a running program reads: the current frame, and the
// capture-wide times frame.time_relative and frame.time_delta need.
type evalCtx struct {
	it      *pipeline.Item
	first   time.Time // the capture's first frame
	prev    time.Time // the previous frame, shown or not
	delta   time.Duration
	started bool
	// accECN marks, one bit per stream, the connections whose SYN asked
	// for accurate ECN (AE, CWR and ECE all set): tshark 4.0 then shows
	// those three bits of every later segment as one counter, tcp.flags.ace,
	// not as tcp.flags.ae/cwr/ece.
	accECN []uint64
}

// isAccECN reports whether the current segment's stream negotiated
// accurate ECN and the segment is not a SYN.
func (c *evalCtx) isAccECN() bool {
	it := c.it
	if !it.Analyzed || it.Packet.TCP == nil || it.Packet.TCP.Flags()&0x02 != 0 {
		return false
	}
	s := it.Result.Stream
	return s/64 < len(c.accECN) && c.accECN[s/64]&(1<<(s%64)) != 0
}

// Filter is a compiled display filter. It is not safe for concurrent use:
// it keeps per-frame buffers and the times of the frames it has seen.
type Filter struct {
	expr string
	c    evalCtx
	run  prog
	used map[string]bool
}

// Compile parses and type-checks expr. Its errors are *Error.
func Compile(expr string) (*Filter, error) {
	tree, err := parse(expr)
	if err != nil {
		return nil, err
	}
	cc := &compiler{expr: expr, fields: map[string]*Field{}, used: map[string]bool{}}
	tab := fieldTable()
	for i := range tab {
		cc.fields[tab[i].Name] = &tab[i]
		cc.names = append(cc.names, tab[i].Name)
	}
	run, err := cc.node(tree)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: expr, run: run, used: cc.used}, nil
}

// Uses reports whether the filter reads the field name: a caller that
// skips work a field needs (verifying checksums) does it when asked.
func (f *Filter) Uses(name string) bool { return f.used[name] }

// String returns the filter as it was written.
func (f *Filter) String() string { return f.expr }

// Match reports whether the frame in it passes the filter. Call it for
// every frame of the capture, in order, shown or not (frame.time_delta
// and frame.time_relative count from the frames before). A frame without
// a TCP header never passes: tcpscope shows only TCP.
func (f *Filter) Match(it *pipeline.Item) bool {
	c := &f.c
	t := it.Frame.Meta.Time
	if !c.started {
		c.first, c.prev, c.started = t, t, true
	}
	c.delta, c.prev = t.Sub(c.prev), t
	if it.Packet.TCP == nil && !it.Packet.TCPHeaderTruncated {
		return false
	}
	if t := it.Packet.TCP; t != nil && it.Analyzed && t.Flags()&0xD2 == 0xC2 && t.AE() {
		// A SYN (no ACK) with AE, CWR and ECE: accurate ECN asked for.
		s := it.Result.Stream
		for len(c.accECN) <= s/64 {
			c.accECN = append(c.accECN, 0)
		}
		c.accECN[s/64] |= 1 << (s % 64)
	}
	c.it = it
	ok := f.run(c)
	c.it = nil
	return ok
}

// Fields returns every field a filter can use, sorted by name, with its
// Wireshark type and meaning (what `tcpscope fields` prints).
func Fields() []Field {
	tab := fieldTable()
	sort.SliceStable(tab, func(i, j int) bool { return tab[i].Name < tab[j].Name })
	return tab
}
