//go:build !cgo && (linux || darwin)

package bpf

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// A build without cgo cannot link libpcap, so its compiler is loaded at run
// time (purego: dlopen and C calls without cgo, as cilium's elibpcap
// does), from the names Debian, Fedora, Alpine and macOS give it. Only the
// compiler is used; the program runs in Run.
var libpcapNames = []string{
	"libpcap.so.1", "libpcap.so.0.8", "libpcap.so", // Linux
	"/usr/lib/libpcap.A.dylib", "libpcap.dylib", // macOS (always installed)
}

// bpfProgram is struct bpf_program: a count and a pointer to the
// instructions, which libpcap allocates and pcap_freecode frees.
type bpfProgram struct {
	Len   uint32
	Insns *Insn
}

type libpcap struct {
	openDead func(linktype, snaplen int32) uintptr
	compile  func(p uintptr, prog *bpfProgram, expr string, optimize int32, netmask uint32) int32
	geterr   func(p uintptr) string
	freecode func(prog *bpfProgram)
	close    func(p uintptr)
}

// loader holds the library once loaded; a function-local sync.OnceValues
// keeps it out of mutable package state.
var loadLibpcap = sync.OnceValues(func() (*libpcap, error) {
	var h uintptr
	var err error
	for _, n := range libpcapNames {
		if h, err = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			break
		}
	}
	if h == 0 {
		return nil, ErrNoLibpcap
	}
	l := &libpcap{}
	purego.RegisterLibFunc(&l.openDead, h, "pcap_open_dead")
	purego.RegisterLibFunc(&l.compile, h, "pcap_compile")
	purego.RegisterLibFunc(&l.geterr, h, "pcap_geterr")
	purego.RegisterLibFunc(&l.freecode, h, "pcap_freecode")
	purego.RegisterLibFunc(&l.close, h, "pcap_close")
	return l, nil
})

// netmaskUnknown is PCAP_NETMASK_UNKNOWN.
const netmaskUnknown = 0xffffffff

// compile compiles expr for link type dlt with libpcap and copies the
// program out of C memory.
func compile(dlt, snap int, expr string) ([]Insn, error) {
	l, err := loadLibpcap()
	if err != nil {
		return nil, err
	}
	p := l.openDead(int32(dlt), int32(snap))
	if p == 0 {
		return nil, errors.New("cannot open a libpcap handle for this link type")
	}
	defer l.close(p)
	var prog bpfProgram
	if l.compile(p, &prog, expr, 1, netmaskUnknown) != 0 {
		return nil, errors.New(l.geterr(p))
	}
	defer l.freecode(&prog)
	return append([]Insn(nil), unsafe.Slice(prog.Insns, prog.Len)...), nil
}
