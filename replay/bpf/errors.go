package bpf

import (
	"errors"
	"fmt"

	"github.com/tcpscope/tcpscope/frame"
)

// snaplen is the capture length given to libpcap's compiler. It only bounds
// what the filter may read; 262144 is tcpdump's default.
const snaplen = 262144

// dltRaw is DLT_RAW on Linux. pcap files store the portable LINKTYPE_RAW
// (101), which libpcap's reader maps to DLT_RAW before compiling; a filter
// compiled on a dead handle needs the same translation. Every other link
// type tcpscope reads has the same number as LINKTYPE and DLT.
const dltRaw = 12

// ExprError is a filter expression that libpcap could not compile for the
// capture's link type: a mistake in the command line, not in the file.
type ExprError struct {
	Expr string
	Link frame.LinkType
	Err  error
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("bad filter expression %q (for link type %s): %v", e.Expr, e.Link, e.Err)
}

func (e *ExprError) Unwrap() error { return e.Err }

// ErrNoLibpcap is the reason a tcpdump filter cannot be compiled in a build
// without cgo where libpcap cannot be loaded either (Windows, FreeBSD, a
// system without libpcap installed).
var ErrNoLibpcap = errors.New("tcpdump filter expressions need libpcap, which this build cannot load (install libpcap, e.g. apt install libpcap0.8, or use a -Y display filter: those work everywhere)")

// match is Match for both builds: an empty expression selects every frame,
// an empty frame none; otherwise the link type's program (prog compiles it
// on first sight) runs on the captured bytes with the length on the wire,
// as pcap_offline_filter is given them.
func match[P any](expr string, fr frame.Frame, prog func(frame.LinkType) (P, error), run func(p P, data []byte, wire uint32) bool) (bool, error) {
	if expr == "" {
		return true, nil
	}
	p, err := prog(fr.Meta.Link)
	if err != nil {
		return false, err
	}
	if len(fr.Data) == 0 {
		return false, nil
	}
	return run(p, fr.Data, uint32(max(fr.Meta.OrigLen, len(fr.Data)))), nil
}
