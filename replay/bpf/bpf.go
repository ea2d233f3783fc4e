//go:build cgo

// Package bpf selects saved frames with a tcpdump filter expression
// ("tcp port 80 and tcp[13] & 2 != 0"), compiled by libpcap itself so that
// tcpscope picks exactly the frames tcpdump would: reimplementing the filter
// language would drift from it in the corners (VLAN offsets, IPv6
// extension headers, the "any" device's cooked header).
//
// It lives apart from package replay because it needs libpcap; reading
// captures does not. With cgo (this file) libpcap is linked; without cgo
// (nocgo.go) it is loaded at run time where it is installed, and the
// compiled program runs in this package's own BPF interpreter (vm.go).
package bpf

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap/pcap.h>

// compile compiles expr for a dead handle of the given link type into a
// program allocated here, or returns NULL with the reason in errbuf.
static struct bpf_program *compile(int link, int snaplen, const char *expr, char *errbuf, size_t n) {
	pcap_t *p = pcap_open_dead(link, snaplen);
	if (p == NULL) {
		snprintf(errbuf, n, "cannot open a libpcap handle for link type %d", link);
		return NULL;
	}
	struct bpf_program *prog = calloc(1, sizeof *prog);
	if (prog == NULL) {
		pcap_close(p);
		snprintf(errbuf, n, "out of memory");
		return NULL;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(errbuf, n, "%s", pcap_geterr(p));
		free(prog);
		pcap_close(p);
		return NULL;
	}
	pcap_close(p);
	return prog;
}

static int match(struct bpf_program *prog, const u_char *data, bpf_u_int32 caplen, bpf_u_int32 len) {
	struct pcap_pkthdr h = {0};
	h.caplen = caplen;
	h.len = len;
	return pcap_offline_filter(prog, &h, data);
}

static void release(struct bpf_program *prog) {
	pcap_freecode(prog);
	free(prog);
}
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/tcpscope/tcpscope/frame"
)

// Filter matches frames against one expression. A capture can mix link
// types (pcapng with several interfaces), so a program is compiled for each
// link type on first sight and kept until Close. A Filter is not safe for
// concurrent use.
//
// libpcap is called directly rather than through gopacket/pcap because
// gopacket's LinkType is a uint8, which cannot name LINKTYPE_LINUX_SLL2
// (276) and so silently compiles for the wrong link type.
type Filter struct {
	expr  string
	progs map[frame.LinkType]*C.struct_bpf_program
}

// New returns a filter for expr, which may be given as several words
// (joined with spaces, as tcpdump does with its arguments). An empty
// expression matches every frame.
func New(expr ...string) *Filter {
	return &Filter{expr: strings.TrimSpace(strings.Join(expr, " ")), progs: map[frame.LinkType]*C.struct_bpf_program{}}
}

// Expr returns the expression as compiled.
func (f *Filter) Expr() string { return f.expr }

// Close frees the compiled programs. The filter must not be used after.
func (f *Filter) Close() {
	for k, p := range f.progs {
		C.release(p)
		delete(f.progs, k)
	}
}

// Compile compiles the expression for link now, so a mistake is reported
// before any frame is read. Match compiles on demand as well.
func (f *Filter) Compile(link frame.LinkType) error {
	if f.expr == "" {
		return nil
	}
	_, err := f.prog(link)
	return err
}

func (f *Filter) prog(link frame.LinkType) (*C.struct_bpf_program, error) {
	if p, ok := f.progs[link]; ok {
		return p, nil
	}
	dlt := int(link)
	if link == frame.LinkRaw {
		dlt = dltRaw
	}
	cexpr := C.CString(f.expr)
	defer C.free(unsafe.Pointer(cexpr))
	var errbuf [C.PCAP_ERRBUF_SIZE]C.char
	p := C.compile(C.int(dlt), snaplen, cexpr, &errbuf[0], C.size_t(len(errbuf)))
	if p == nil {
		return nil, &ExprError{Expr: f.expr, Link: link, Err: errors.New(C.GoString(&errbuf[0]))}
	}
	f.progs[link] = p
	return p, nil
}

// Match reports whether fr passes the filter. The error is an *ExprError
// when the expression does not compile for the frame's link type.
func (f *Filter) Match(fr frame.Frame) (bool, error) {
	return match(f.expr, fr, f.prog, func(p *C.struct_bpf_program, data []byte, wire uint32) bool {
		return C.match(p, (*C.u_char)(unsafe.Pointer(&data[0])), C.bpf_u_int32(len(data)), C.bpf_u_int32(wire)) != 0
	})
}

// Program returns a copy of the compiled program for link, for this
// package's interpreter (Run) or a kernel socket filter.
func (f *Filter) Program(link frame.LinkType) ([]Insn, error) {
	p, err := f.prog(link)
	if err != nil {
		return nil, err
	}
	return append([]Insn(nil), unsafe.Slice((*Insn)(unsafe.Pointer(p.bf_insns)), int(p.bf_len))...), nil
}
