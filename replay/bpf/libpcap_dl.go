//go:build !cgo && (linux || darwin)

package bpf

import (
	"errors"
	"unsafe"

	"github.com/tcpscope/tcpscope/internal/libpcap"
)

// compile compiles expr for link type dlt with libpcap, loaded at run time
// (a build without cgo cannot link it), and copies the program out of C
// memory; the program runs in Run.
func compile(dlt, snap int, expr string) ([]Insn, error) {
	l, err := libpcap.Load()
	if err != nil {
		return nil, ErrNoLibpcap
	}
	p := l.OpenDead(int32(dlt), int32(snap))
	if p == 0 {
		return nil, errors.New("cannot open a libpcap handle for this link type")
	}
	defer l.Close(p)
	var prog libpcap.Program
	if l.Compile(p, &prog, expr, 1, libpcap.NetmaskUnknown) != 0 {
		return nil, errors.New(l.Geterr(p))
	}
	defer l.Freecode(&prog)
	return append([]Insn(nil), unsafe.Slice((*Insn)(unsafe.Pointer(prog.Insns)), prog.Len)...), nil
}
