package capture

import (
	"fmt"
	"runtime"
)

// DefaultSnaplen captures whole frames, including loopback's 64 KiB GSO
// segments (libpcap's own maximum).
const DefaultSnaplen = 262144

// HeaderSnaplen is the snaplen tcpscope capture uses when it only annotates
// (no -w): every header a TCP segment can have (Ethernet with two VLAN
// tags, IPv6 with extension headers, TCP with 40 bytes of options) fits in
// 256 bytes, and the analysis uses the lengths on the wire, so nothing
// shown is lost, while the kernel's buffer holds hundreds of times more
// frames than with 64 KiB loopback frames kept whole: a full-speed loopback
// transfer then loses none.
const HeaderSnaplen = 256

// Loopback returns the name of this OS's loopback interface.
func Loopback() string {
	if runtime.GOOS == "linux" {
		return "lo"
	}
	return "lo0"
}

// DefaultBufferSize is the kernel capture buffer (the packet ring shared
// with libpcap) when Options.BufferSize is 0: 32 MiB, room for about half a
// second of a full-speed loopback transfer, so a reader that is briefly
// descheduled (two cores shared with the sender and the receiver) loses
// nothing. tcpdump's default is 2 MiB.
const DefaultBufferSize = 32 << 20

// Options configures a live capture.
type Options struct {
	Interface string // e.g. "lo"; "" means Loopback()
	Snaplen   int    // bytes kept per frame; 0 means DefaultSnaplen
	Filter    string // BPF expression in tcpdump syntax; "" captures everything

	// Immediate delivers each packet as soon as it arrives: what a person
	// watching a terminal wants. On Linux, libpcap then uses a TPACKET_V2
	// ring of fixed-size slots, each as big as the snaplen: with the
	// default 256 KiB snaplen a 32 MiB buffer holds only 128 packets, and
	// a fast transfer overflows it. Without Immediate, libpcap packs
	// packets into blocks by their real size (TPACKET_V3) and hands over a
	// block when it is full or 100 ms old: many thousands of packets fit,
	// at the price of up to 100 ms of delay. tcpscope uses Immediate when
	// its output is a terminal, and not when it goes to a file or pipe.
	Immediate bool
	// BufferSize is the kernel buffer in bytes; 0 means DefaultBufferSize.
	BufferSize int
}

// ReadError is a capture that broke off: the interface was deleted, went
// down, or moved to another network namespace. Its message names the
// interface.
type ReadError struct {
	Iface string
	Err   error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("capture on %s stopped: %v", e.Iface, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Stats are the kernel's counters for this capture.
type Stats struct {
	Received, Dropped, IfDropped int
}

// FilterError is a capture filter libpcap could not compile: a mistake in
// the command line, not a failure of the capture.
type FilterError struct {
	Expr string
	Err  error
}

func (e *FilterError) Error() string { return fmt.Sprintf("capture filter %q: %v", e.Expr, e.Err) }

func (e *FilterError) Unwrap() error { return e.Err }

// fill puts the defaults in the options left zero.
func (o *Options) fill() {
	if o.Interface == "" {
		o.Interface = Loopback()
	}
	if o.Snaplen <= 0 {
		o.Snaplen = DefaultSnaplen
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
}
