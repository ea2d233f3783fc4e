//go:build !cgo && (darwin || (linux && pcapdl))

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/libpcap"
)

// A build without cgo on macOS captures through the system's libpcap,
// loaded at run time (package internal/libpcap): macOS always has it, and
// there is no other capture interface as simple (BPF devices are what
// libpcap opens there). On Linux this file is built only with -tags pcapdl,
// to test it; Linux's cgo-free builds use their own AF_PACKET socket.

// Handle is an open live capture. It is a frame.Source: Next blocks until a
// frame arrives, and returns io.EOF once Stop was called.
type Handle struct {
	lib     *libpcap.Lib
	p       uintptr
	fd      int // pcap_get_selectable_fd: polled for the next packet
	iface   string
	link    frame.LinkType
	n       int
	stopped atomic.Int64 // UnixNano of the Stop call; 0 while running
	drainBy time.Time
	closed  atomic.Bool
}

// Open starts capturing. Errors name the interface and, for a missing
// privilege, say how to get it.
func Open(o Options) (*Handle, error) {
	o.fill()
	l, err := libpcap.Load()
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %v: live capture in this build (without cgo) loads the system's libpcap", o.Interface, err)
	}
	errbuf := make([]byte, 512)
	p := l.Create(o.Interface, &errbuf[0])
	if p == 0 {
		return nil, fmt.Errorf("capture on %s: %s", o.Interface, cstr(errbuf))
	}
	fail := func(err error) (*Handle, error) {
		l.Close(p)
		return nil, err
	}
	l.SetSnaplen(p, int32(o.Snaplen))
	l.SetPromisc(p, 1)
	l.SetTimeout(p, 100)
	l.SetBufferSize(p, int32(min(o.BufferSize, 1<<30)))
	if o.Immediate {
		l.SetImmediate(p, 1)
	}
	if rc := l.Activate(p); rc < 0 {
		return fail(explainActivate(o.Interface, l.Geterr(p)))
	}
	if o.Filter != "" {
		var prog libpcap.Program
		if l.Compile(p, &prog, o.Filter, 1, libpcap.NetmaskUnknown) != 0 {
			return fail(&FilterError{Expr: o.Filter, Err: errors.New(l.Geterr(p))})
		}
		rc := l.SetFilter(p, &prog)
		l.Freecode(&prog)
		if rc != 0 {
			return fail(fmt.Errorf("capture on %s: set filter: %s", o.Interface, l.Geterr(p)))
		}
	}
	// Non-blocking reads and a poll of our own, with a timeout: libpcap's
	// read timeout is not kept on every system (on Linux a read with no
	// packet at all may wait forever), and Stop must be seen.
	fd := l.SelectableFD(p)
	if fd < 0 || l.SetNonblock(p, 1, &errbuf[0]) != 0 {
		return fail(fmt.Errorf("capture on %s: cannot poll the capture: %s", o.Interface, cstr(errbuf)))
	}
	return &Handle{lib: l, p: p, fd: int(fd), iface: o.Interface, link: frame.LinkType(l.Datalink(p))}, nil
}

// explainActivate turns libpcap's activation errors into one line that
// says what to do.
func explainActivate(iface, s string) error {
	switch {
	case strings.Contains(s, "ermission") || strings.Contains(s, "not permitted"):
		hint := "run with sudo"
		if runtime.GOOS == "darwin" {
			hint = "run with sudo, or install Wireshark's ChmodBPF to let your user open /dev/bpf*"
		}
		return fmt.Errorf("capture on %s: permission denied: capturing needs root (%s)", iface, hint)
	case strings.Contains(s, "No such device") || strings.Contains(s, "doesn't exist"):
		return fmt.Errorf("capture on %s: no such interface (see tcpscope capture --list-interfaces)", iface)
	}
	return fmt.Errorf("capture on %s: %s", iface, s)
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// Interface returns the interface being captured.
func (c *Handle) Interface() string { return c.iface }

// LinkType returns the interface's link type.
func (c *Handle) LinkType() frame.LinkType { return c.link }

// Stop makes Next return io.EOF once what libpcap holds is read. Safe to
// call from another goroutine.
func (c *Handle) Stop() { c.stopped.CompareAndSwap(0, time.Now().UnixNano()) }

// Next returns the next frame; its bytes are libpcap's, valid until the
// next call.
func (c *Handle) Next() (frame.Frame, error) {
	for {
		if stop := c.stopped.Load(); stop != 0 {
			if c.drainBy.IsZero() {
				c.drainBy = time.Now().Add(300 * time.Millisecond)
			} else if time.Now().After(c.drainBy) {
				return frame.Frame{}, io.EOF
			}
		}
		var hdr *libpcap.PktHdr
		var data *byte
		switch rc := c.lib.NextEx(c.p, &hdr, &data); rc {
		case 1:
			c.n++
			ts := time.Unix(hdr.Sec, int64(int32(hdr.Usec))*1000)
			b := unsafe.Slice(data, hdr.CapLen)
			return frame.Frame{Data: b, Meta: frame.Meta{
				Number: c.n, Time: ts, CapLen: int(hdr.CapLen), OrigLen: int(hdr.Len), Link: c.link,
			}}, nil
		case 0: // nothing waiting (non-blocking)
			// After Stop, what libpcap will still hand over (a block the
			// kernel retires within its 100 ms timeout) is waited for
			// until drainBy, then the capture ends.
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
			if n, err := unix.Poll(fds, 100); n > 0 || err == unix.EINTR || c.stopped.Load() != 0 {
				continue
			}
			if _, err := net.InterfaceByName(c.iface); err != nil {
				return frame.Frame{}, &ReadError{Iface: c.iface, Err: errors.New("the interface disappeared (deleted, or moved to another network namespace)")}
			}
			if ifc, err := net.InterfaceByName(c.iface); err == nil && ifc.Flags&net.FlagUp == 0 {
				return frame.Frame{}, &ReadError{Iface: c.iface, Err: errors.New("the interface went down")}
			}
		case -2:
			return frame.Frame{}, io.EOF
		default:
			return frame.Frame{}, &ReadError{Iface: c.iface, Err: errors.New(c.lib.Geterr(c.p))}
		}
	}
}

// Stats returns the kernel's counters for this capture (pcap_stats).
func (c *Handle) Stats() (Stats, error) {
	var st libpcap.Stat
	if c.lib.Stats(c.p, &st) != 0 {
		return Stats{}, errors.New(c.lib.Geterr(c.p))
	}
	return Stats{Received: int(st.Recv), Dropped: int(st.Drop), IfDropped: int(st.IfDrop)}, nil
}

// Close releases the capture.
func (c *Handle) Close() {
	if c.closed.CompareAndSwap(false, true) {
		c.lib.Close(c.p)
	}
}
