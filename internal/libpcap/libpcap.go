//go:build !cgo && (linux || darwin)

// Package libpcap loads libpcap at run time in a build without cgo (purego:
// dlopen and C calls without a C compiler, as cilium's elibpcap does), for
// tcpdump filters (package replay/bpf) and live capture where tcpscope has
// no capture path of its own (macOS). Only what those need is bound.
package libpcap

import (
	"errors"
	"sync"

	"github.com/ebitengine/purego"
)

// ErrNotFound: no libpcap could be loaded.
var ErrNotFound = errors.New("libpcap is not installed (or not found)")

// names are where Debian, Fedora, Alpine and macOS keep libpcap.
var names = []string{
	"libpcap.so.1", "libpcap.so.0.8", "libpcap.so", // Linux
	"/usr/lib/libpcap.A.dylib", "libpcap.dylib", // macOS (always installed)
}

// Program is struct bpf_program: a count and a pointer to the
// instructions, which libpcap allocates and pcap_freecode frees.
type Program struct {
	Len   uint32
	Insns *[8]byte // struct bpf_insn: code (2), jt (1), jf (1), k (4)
}

// PktHdr is struct pcap_pkthdr on 64-bit Linux and macOS: a struct
// timeval (tv_usec is 8 bytes on Linux, 4 and padding on macOS: read its
// low 32 bits), then the captured and the original length.
type PktHdr struct {
	Sec    int64
	Usec   int64
	CapLen uint32
	Len    uint32
}

// Stat is struct pcap_stat.
type Stat struct {
	Recv, Drop, IfDrop uint32
}

// Lib holds libpcap's functions.
type Lib struct {
	OpenDead      func(linktype, snaplen int32) uintptr
	Compile       func(p uintptr, prog *Program, expr string, optimize int32, netmask uint32) int32
	Geterr        func(p uintptr) string
	Freecode      func(prog *Program)
	Close         func(p uintptr)
	Create        func(source string, errbuf *byte) uintptr
	SetSnaplen    func(p uintptr, n int32) int32
	SetPromisc    func(p uintptr, on int32) int32
	SetTimeout    func(p uintptr, ms int32) int32
	SetImmediate  func(p uintptr, on int32) int32
	SetBufferSize func(p uintptr, n int32) int32
	Activate      func(p uintptr) int32
	SetFilter     func(p uintptr, prog *Program) int32
	Datalink      func(p uintptr) int32
	NextEx        func(p uintptr, hdr **PktHdr, data **byte) int32
	Breakloop     func(p uintptr)
	Stats         func(p uintptr, st *Stat) int32
	SetNonblock   func(p uintptr, on int32, errbuf *byte) int32
	SelectableFD  func(p uintptr) int32
}

// NetmaskUnknown is PCAP_NETMASK_UNKNOWN.
const NetmaskUnknown = 0xffffffff

// Load loads libpcap once; later calls return the same.
var Load = sync.OnceValues(func() (*Lib, error) {
	var h uintptr
	var err error
	for _, n := range names {
		if h, err = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			break
		}
	}
	if h == 0 {
		return nil, ErrNotFound
	}
	l := &Lib{}
	for name, fn := range map[string]any{
		"pcap_open_dead": &l.OpenDead, "pcap_compile": &l.Compile, "pcap_geterr": &l.Geterr,
		"pcap_freecode": &l.Freecode, "pcap_close": &l.Close, "pcap_create": &l.Create,
		"pcap_set_snaplen": &l.SetSnaplen, "pcap_set_promisc": &l.SetPromisc, "pcap_set_timeout": &l.SetTimeout,
		"pcap_set_immediate_mode": &l.SetImmediate, "pcap_set_buffer_size": &l.SetBufferSize,
		"pcap_activate": &l.Activate, "pcap_setfilter": &l.SetFilter, "pcap_datalink": &l.Datalink,
		"pcap_next_ex": &l.NextEx, "pcap_breakloop": &l.Breakloop, "pcap_stats": &l.Stats,
		"pcap_setnonblock": &l.SetNonblock, "pcap_get_selectable_fd": &l.SelectableFD,
	} {
		purego.RegisterLibFunc(fn, h, name)
	}
	return l, nil
})
