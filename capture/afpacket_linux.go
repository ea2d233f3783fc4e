//go:build linux && !cgo && !pcapdl

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay/bpf"
)

// A build without cgo has no gopacket/pcap, so on Linux it captures through
// an AF_PACKET socket of its own, as libpcap does underneath (one recvmsg
// per packet rather than libpcap's memory-mapped ring: simpler, and still
// more than the annotating can show). A tcpdump filter is compiled by
// libpcap loaded at run time (package bpf) and attached to the socket as a
// kernel filter, so only matching packets cross into user space; where
// libpcap cannot be loaded a filter expression is refused in one line, and
// -Y display filters still work.

// Handle is an open live capture. It is a frame.Source: Next blocks until a
// frame arrives, and returns io.EOF once Stop was called.
type Handle struct {
	fd       int
	iface    string
	ifindex  int
	loopback bool
	link     frame.LinkType
	snaplen  int
	buf, oob []byte
	n        int
	stopped  atomic.Bool
	closed   atomic.Bool
}

// readTimeout bounds each recvmsg, so Stop is seen within it.
const readTimeout = 100 * time.Millisecond

// Open starts capturing. Errors name the interface and, for a missing
// privilege, say how to get it.
func Open(o Options) (*Handle, error) {
	o.fill()
	ifc, err := net.InterfaceByName(o.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: no such interface (see tcpscope capture --list-interfaces)", o.Interface)
	}
	hatype, err := arpType(o.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %v", o.Interface, err)
	}
	// Ethernet and loopback keep their link-layer header (SOCK_RAW, link
	// type EN10MB, as libpcap); any other device is captured cooked, with
	// a Linux SLL header made from the socket address (as libpcap's
	// "any").
	typ, link := unix.SOCK_RAW, frame.LinkEthernet
	if hatype != unix.ARPHRD_ETHER && hatype != unix.ARPHRD_LOOPBACK {
		typ, link = unix.SOCK_DGRAM, frame.LinkSLL
	}
	// Protocol 0: the socket receives nothing until bind names one, so no
	// packet is queued before the filter is attached (libpcap does the
	// same); with ETH_P_ALL here, other traffic slips in first.
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("capture on %s: permission denied: capturing needs root or CAP_NET_RAW (run with sudo, or: sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tcpscope))", o.Interface)
		}
		return nil, fmt.Errorf("capture on %s: %v", o.Interface, err)
	}
	h := &Handle{fd: fd, iface: o.Interface, ifindex: ifc.Index, loopback: ifc.Flags&net.FlagLoopback != 0, link: link, snaplen: o.Snaplen}
	fail := func(what string, err error) (*Handle, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("capture on %s: %s: %v", o.Interface, what, err)
	}
	if o.Filter != "" {
		// Attached before bind, so no unfiltered packet is queued.
		flt := bpf.New(o.Filter)
		prog, err := flt.Program(link)
		flt.Close()
		if err != nil {
			unix.Close(fd)
			return nil, &FilterError{Expr: o.Filter, Err: errors.Unwrap(err)}
		}
		if err := attach(fd, prog); err != nil {
			return fail("attach filter", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		return fail("bind", err)
	}
	// The kernel buffer: SO_RCVBUFFORCE goes past rmem_max for root (as
	// libpcap sizes its ring past it), SO_RCVBUF otherwise.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, o.BufferSize); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.BufferSize)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("SO_TIMESTAMPNS", err)
	}
	tv := unix.NsecToTimeval(readTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	if !h.loopback {
		// Promiscuous, as tcpdump by default.
		mreq := unix.PacketMreq{Ifindex: int32(ifc.Index), Type: unix.PACKET_MR_PROMISC}
		_ = unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq)
	}
	hdr := 0
	if link == frame.LinkSLL {
		hdr = sllLen
	}
	h.buf = make([]byte, hdr+o.Snaplen)
	h.oob = make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	return h, nil
}

// attach sets prog as the socket's kernel filter (SO_ATTACH_FILTER): the
// same classic BPF libpcap compiles, which the kernel runs on every packet.
func attach(fd int, prog []bpf.Insn) error {
	if len(prog) == 0 {
		return nil
	}
	raw := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		raw[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(raw)), Filter: &raw[0]})
}

// arpType reads the device's ARPHRD_* type from sysfs.
func arpType(iface string) (int, error) {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return 0, err
	}
	var t int
	_, err = fmt.Sscan(strings.TrimSpace(string(b)), &t)
	return t, err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Interface returns the interface being captured.
func (c *Handle) Interface() string { return c.iface }

// LinkType returns the interface's link type.
func (c *Handle) LinkType() frame.LinkType { return c.link }

// Stop makes Next return io.EOF once the packets the kernel already holds
// are read (within readTimeout). Safe to call from another goroutine.
func (c *Handle) Stop() { c.stopped.Store(true) }

// Linux cooked capture v1 header (LINKTYPE_LINUX_SLL), all fields in
// network byte order:
//
//	0       2       4       6               14      16
//	+-------+-------+-------+---------------+-------+
//	|pkttype|hatype |addrlen|  address (8)  | proto |
//	+-------+-------+-------+---------------+-------+
const sllLen = 16

// Next returns the next frame.
func (c *Handle) Next() (frame.Frame, error) {
	hdr := 0
	if c.link == frame.LinkSLL {
		hdr = sllLen
	}
	for {
		// After Stop, what the kernel already holds is still read (without
		// waiting): Ctrl-C must not lose the last packets of a session.
		flags := unix.MSG_TRUNC
		stopped := c.stopped.Load()
		if stopped {
			flags |= unix.MSG_DONTWAIT
		}
		n, oobn, _, from, err := unix.Recvmsg(c.fd, c.buf[hdr:], c.oob, flags)
		if err != nil {
			if stopped && errors.Is(err, unix.EAGAIN) {
				return frame.Frame{}, io.EOF
			}
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				if down, derr := c.down(); derr != nil || down {
					return frame.Frame{}, c.readError(derr, down)
				}
				continue
			}
			return frame.Frame{}, c.readError(err, false)
		}
		sll, ok := from.(*unix.SockaddrLinklayer)
		if ok && c.loopback && sll.Pkttype == unix.PACKET_OUTGOING {
			// On loopback each packet passes twice, going out and coming
			// in; libpcap keeps only the second.
			continue
		}
		ts := time.Now()
		if msgs, err := unix.ParseSocketControlMessage(c.oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					sec := int64(binary.NativeEndian.Uint64(m.Data[0:]))
					nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
					ts = time.Unix(sec, nsec)
				}
			}
		}
		orig := n + hdr
		capLen := min(n, len(c.buf)-hdr) + hdr
		if hdr > 0 && ok {
			b := c.buf[:sllLen]
			binary.BigEndian.PutUint16(b[0:], uint16(sll.Pkttype))
			binary.BigEndian.PutUint16(b[2:], sll.Hatype)
			binary.BigEndian.PutUint16(b[4:], uint16(sll.Halen))
			clear(b[6:14])
			copy(b[6:14], sll.Addr[:min(int(sll.Halen), 8)])
			binary.BigEndian.PutUint16(b[14:], htons(sll.Protocol))
		}
		c.n++
		return frame.Frame{Data: c.buf[:capLen], Meta: frame.Meta{
			Number: c.n, Time: ts, CapLen: capLen, OrigLen: orig, Link: c.link,
		}}, nil
	}
}

// down reports whether the interface went down or away.
func (c *Handle) down() (bool, error) {
	ifc, err := net.InterfaceByIndex(c.ifindex)
	if err != nil {
		return false, errors.New("the interface disappeared (deleted, or moved to another network namespace)")
	}
	return ifc.Flags&net.FlagUp == 0, nil
}

func (c *Handle) readError(err error, down bool) error {
	if down {
		err = errors.New("the interface went down")
	} else if errors.Is(err, unix.ENETDOWN) {
		err = errors.New("the interface went down")
	} else if errors.Is(err, unix.ENXIO) || errors.Is(err, unix.ENODEV) {
		err = errors.New("the interface disappeared (deleted, or moved to another network namespace)")
	}
	return &ReadError{Iface: c.iface, Err: err}
}

// Stats returns the packets the kernel passed to the filter and those it
// dropped because the socket's buffer was full (PACKET_STATISTICS; the
// kernel resets them on each read, so they are counted since the last).
func (c *Handle) Stats() (Stats, error) {
	s, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Received: int(s.Packets), Dropped: int(s.Drops)}, nil
}

// Close releases the capture.
func (c *Handle) Close() {
	if c.closed.CompareAndSwap(false, true) {
		unix.Close(c.fd)
	}
}
