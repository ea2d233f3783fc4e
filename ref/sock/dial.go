//go:build unix

package sock

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Resolve is the getaddrinfo(3) step: turn a host name into the addresses
// to try, in the order to try them. An address literal ("127.0.0.1",
// "::1") is returned as it is, without asking anyone, as getaddrinfo does.
// Names go to net.DefaultResolver (the hosts file, then DNS).
func (c Caller) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	start := time.Now()
	ev := Event{Call: "getaddrinfo", FD: -1, Host: host}
	var addrs []netip.Addr
	var err error
	if a, perr := netip.ParseAddr(host); perr == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err == nil && len(addrs) == 0 {
			err = &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
	}
	if err != nil {
		ev.Err = err
		c.emit(ev, start)
		return nil, &Error{Call: "resolve", Addr: host, Err: err}
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	ev.Addrs = append([]netip.Addr(nil), addrs...)
	c.emit(ev, start)
	return addrs, nil
}

// DialTCP is the classic client opening: resolve host, then for each
// address in turn socket(2) and connect(2) until one connects, closing the
// sockets that failed. The context bounds the whole attempt: its deadline
// limits each connect, and cancelling it stops a connect in progress. The
// returned socket has no timeout set.
//
// The error names what was asked for and what was tried:
//
//	connect 127.0.0.1:7000: connection refused
//	connect localhost:7000: connection refused (tried [::1]:7000, 127.0.0.1:7000)
func (c Caller) DialTCP(ctx context.Context, host string, port uint16) (*Socket, error) {
	return c.DialTCPWith(ctx, host, port, nil)
}

// DialTCPWith is DialTCP with the choices a client makes between socket(2)
// and connect(2): prepare (nil: none) is called on each new socket before
// it connects, to set options the handshake must carry (SO_RCVBUF shapes
// the window scale, TCP_MAXSEG the MSS). An error from prepare closes that
// socket and ends the attempt.
func (c Caller) DialTCPWith(ctx context.Context, host string, port uint16, prepare func(*Socket) error) (*Socket, error) {
	addrs, err := c.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var tried []string
	var last error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, port)
		tried = append(tried, ap.String())
		s, err := c.Socket(FamilyOf(a))
		if err != nil {
			last = err
			continue
		}
		if prepare != nil {
			if err := prepare(s); err != nil {
				_ = s.Close()
				return nil, err
			}
		}
		if err = c.connectCtx(ctx, s, ap); err == nil {
			return s, nil
		}
		last = err
		_ = s.Close()
		if ctx.Err() != nil {
			break
		}
	}
	e := &Error{Call: "connect", Addr: net.JoinHostPort(host, strconv.Itoa(int(port))), Err: cause(last)}
	if ctx.Err() != nil {
		e.Err = ctx.Err()
	}
	if _, perr := netip.ParseAddr(host); perr != nil || len(tried) > 1 {
		e.Note = "tried " + strings.Join(tried, ", ")
	}
	return nil, e
}

// connectCtx connects s to ap within ctx's deadline, and lets cancelling
// ctx close the socket to interrupt the wait.
func (c Caller) connectCtx(ctx context.Context, s *Socket, ap netip.AddrPort) error {
	if dl, ok := ctx.Deadline(); ok {
		s.SetTimeout(max(time.Until(dl), time.Millisecond))
		defer s.SetTimeout(0)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Close() })
	err := s.Connect(ap)
	if !stop() && err == nil {
		// ctx was cancelled just as the connect succeeded: the socket is
		// being closed, so the connection is lost all the same.
		return ctx.Err()
	}
	return err
}

// cause strips an *Error down to its errno (or other cause), so that a
// higher-level call can word the message itself.
func cause(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Err
	}
	return err
}

// ListenTCP is the classic server opening: socket, setsockopt, bind,
// listen, then getsockname to learn the port actually bound (the one to
// tell clients when addr has port 0). Errors read as
// "listen 127.0.0.1:7000: address already in use".
func (c Caller) ListenTCP(addr netip.AddrPort, cfg ListenConfig) (*Socket, netip.AddrPort, error) {
	bad := func(err error) error { return &Error{Call: "listen", Addr: addr.String(), Err: cause(err)} }
	if !addr.Addr().IsValid() {
		return nil, netip.AddrPort{}, bad(errors.New("invalid address"))
	}
	s, err := c.Socket(FamilyOf(addr.Addr()))
	if err != nil {
		return nil, netip.AddrPort{}, bad(err)
	}
	if err := prepareListener(s, addr, cfg); err != nil {
		_ = s.Close()
		return nil, netip.AddrPort{}, bad(err)
	}
	local, err := s.Getsockname()
	if err != nil {
		_ = s.Close()
		return nil, netip.AddrPort{}, bad(err)
	}
	return s, local, nil
}

// prepareListener makes the calls between socket and getsockname.
func prepareListener(s *Socket, addr netip.AddrPort, cfg ListenConfig) error {
	if cfg.ReuseAddr {
		if err := s.SetReuseAddr(true); err != nil {
			return err
		}
	}
	if cfg.RcvBuf > 0 {
		if err := s.SetRcvBuf(cfg.RcvBuf); err != nil {
			return err
		}
	}
	if cfg.SndBuf > 0 {
		if err := s.SetSndBuf(cfg.SndBuf); err != nil {
			return err
		}
	}
	if cfg.MaxSeg > 0 {
		if err := s.SetMaxSeg(cfg.MaxSeg); err != nil {
			return err
		}
	}
	if err := s.Bind(addr); err != nil {
		return err
	}
	backlog := cfg.Backlog
	if backlog <= 0 {
		backlog = 128
	}
	return s.Listen(backlog)
}
