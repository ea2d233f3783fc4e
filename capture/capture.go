//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/pcap"

	"github.com/tcpscope/tcpscope/frame"
)

// Handle is an open live capture. It is a frame.Source: Next blocks until a
// frame arrives, and returns io.EOF once Stop was called.
type Handle struct {
	h        *pcap.Handle
	iface    string
	link     frame.LinkType
	n        int
	stopped  atomic.Int64 // UnixNano of the Stop call; 0 while running
	drainBy  time.Time    // after Stop: give up draining at this time
	updown   *linkState   // nil when the interface's state cannot be read
	downSeen bool         // the interface was seen down at the last read timeout
}

// Open starts capturing. Errors name the interface and, for a missing
// privilege, say how to get it.
func Open(o Options) (*Handle, error) {
	o.fill()
	in, err := pcap.NewInactiveHandle(o.Interface)
	if err != nil {
		return nil, explain(o.Interface, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(o.Snaplen) },
		func() error { return in.SetPromisc(false) },
		func() error { return in.SetImmediateMode(o.Immediate) },
		// A short timeout so Next can notice Stop (and, without immediate
		// mode, the longest a packet waits in a half-filled block).
		func() error { return in.SetTimeout(100 * time.Millisecond) },
		func() error { return in.SetBufferSize(o.BufferSize) },
	} {
		if err := set(); err != nil {
			return nil, explain(o.Interface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, explain(o.Interface, err)
	}
	if o.Filter != "" {
		if err := h.SetBPFFilter(o.Filter); err != nil {
			h.Close()
			return nil, &FilterError{Expr: o.Filter, Err: err}
		}
	}
	return &Handle{h: h, iface: o.Interface, link: frame.LinkType(h.LinkType()), updown: watchLink(o.Interface)}, nil
}

// explain turns libpcap's errors into one line that says what to do.
func explain(iface string, err error) error {
	s := err.Error()
	switch {
	case strings.Contains(s, "ermission") || strings.Contains(s, "not permitted"):
		return fmt.Errorf("capture on %s: permission denied: capturing needs root or CAP_NET_RAW (run with sudo, or: sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tcpscope))", iface)
	case strings.Contains(s, "No such device") || strings.Contains(s, "doesn't exist") || strings.Contains(s, "No such"):
		return fmt.Errorf("capture on %s: no such interface (see tcpscope capture --list-interfaces)", iface)
	}
	return fmt.Errorf("capture on %s: %s", iface, s)
}

// Interface returns the interface being captured.
func (c *Handle) Interface() string { return c.iface }

// LinkType returns the interface's link type.
func (c *Handle) LinkType() frame.LinkType { return c.link }

// Stop ends the capture: Next still returns the packets that arrived before
// the Stop call and are waiting in the kernel's buffer (nothing seen before
// Ctrl-C is lost), then io.EOF, within about 100 ms (one read timeout, at
// most 300 ms under continuous traffic). Safe to call from a signal handler
// goroutine.
func (c *Handle) Stop() { c.stopped.CompareAndSwap(0, time.Now().UnixNano()) }

// Next returns the next captured frame; its bytes are valid until the next
// call.
func (c *Handle) Next() (frame.Frame, error) {
	for {
		stop := c.stopped.Load()
		if stop != 0 {
			if c.drainBy.IsZero() {
				c.drainBy = time.Now().Add(300 * time.Millisecond)
			} else if time.Now().After(c.drainBy) {
				return frame.Frame{}, io.EOF
			}
		}
		data, ci, err := c.h.ZeroCopyReadPacketData()
		if stop != 0 && (err != nil || ci.Timestamp.UnixNano() > stop) {
			// Drained: the buffer is empty (a read timed out) or the
			// packets now arriving came after the Stop call.
			if err == nil || errors.Is(err, pcap.NextErrorTimeoutExpired) {
				return frame.Frame{}, io.EOF
			}
		}
		switch {
		case err == nil:
			c.n++
			return frame.Frame{Data: data, Meta: frame.Meta{
				Number: c.n, Time: ci.Timestamp, CapLen: ci.CaptureLength, OrigLen: ci.Length, Link: c.link,
			}}, nil
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			// Nothing waiting in the buffer: a good moment to see whether
			// the interface went down, which libpcap does not report
			// (only a deleted interface makes its read fail).
			// Once it is down, one more read timeout lets the kernel hand
			// over a block it was still filling, so the -w file gets
			// every packet it received.
			if c.downSeen || c.updown.wentDown() {
				if c.downSeen {
					return frame.Frame{}, &ReadError{Iface: c.iface, Err: errors.New("the interface went down")}
				}
				c.downSeen = true
			}
			continue
		case errors.Is(err, pcap.NextErrorNoMorePackets), errors.Is(err, io.EOF):
			return frame.Frame{}, io.EOF
		default:
			return frame.Frame{}, c.readError(err)
		}
	}
}

// readError explains a failed read. gopacket reports only "Read Error";
// libpcap's own message (pcap_geterr) says what happened, e.g. "The
// interface disappeared" when the link was deleted, and is turned into a
// sentence a user can act on.
func (c *Handle) readError(err error) error {
	if perr := c.h.Error(); perr != nil && perr.Error() != "" {
		err = perr
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "disappeared") || strings.Contains(s, "No such device"):
		err = errors.New("the interface disappeared (deleted, or moved to another network namespace)")
	case strings.Contains(s, "went down") || strings.Contains(s, "Network is down"):
		err = errors.New("the interface went down")
	}
	return &ReadError{Iface: c.iface, Err: err}
}

// Stats returns the packets the kernel passed to the filter, and those it
// dropped because the buffer was full (libpcap's pcap_stats).
func (c *Handle) Stats() (Stats, error) {
	s, err := c.h.Stats()
	if err != nil {
		return Stats{}, err
	}
	return Stats{Received: s.PacketsReceived, Dropped: s.PacketsDropped, IfDropped: s.PacketsIfDropped}, nil
}

// Close releases the capture.
func (c *Handle) Close() {
	c.h.Close()
	c.updown.close()
}

// Interfaces lists capturable interfaces as "name: description [addresses]".
func Interfaces() ([]string, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %v", err)
	}
	var out []string
	for _, i := range ifs {
		var addrs []string
		for _, a := range i.Addresses {
			addrs = append(addrs, a.IP.String())
		}
		line := i.Name
		if i.Description != "" {
			line += ": " + i.Description
		}
		if len(addrs) > 0 {
			line += " [" + strings.Join(addrs, ", ") + "]"
		}
		out = append(out, line)
	}
	return out, nil
}
