//go:build unix

package sock

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tick is how long one poll(2) wait lasts before a blocking call looks
// again whether Close was called: the worst-case delay of a Ctrl-C.
const tick = 100 * time.Millisecond

// emit stamps an event and hands it to the tracer.
func (c Caller) emit(e Event, start time.Time) {
	if c.Trace == nil {
		return
	}
	e.Who = c.Who
	e.Time = time.Now()
	e.Took = e.Time.Sub(start)
	c.Trace(e)
}

// Socket is one TCP socket: a file descriptor plus what is needed to trace
// calls on it and to stop them from another goroutine. Its methods are the
// socket calls made on that descriptor. Read and Write may run at the same
// time from two goroutines (as a full-duplex client does); Close may be
// called from any goroutine and makes blocked calls return net.ErrClosed.
type Socket struct {
	fd     int
	family Family
	caller Caller

	mu      sync.Mutex
	idle    sync.Cond // signalled when busy drops to 0
	busy    int       // calls in progress on fd
	closing bool      // Close has begun: no new calls, waits give up
	timeout time.Duration
	local   netip.AddrPort // as bound, for error messages
	peer    netip.AddrPort // as connected or accepted, for error messages
}

// Socket is socket(2): a new TCP socket of family f.
func (c Caller) Socket(f Family) (*Socket, error) {
	start := time.Now()
	ev := Event{Call: "socket", FD: -1, Domain: f, Type: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP}
	// ForkLock keeps a concurrent fork/exec from inheriting the descriptor
	// between socket(2) and FD_CLOEXEC (macOS has no SOCK_CLOEXEC).
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(int(f), unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		ev.Err = err
		c.emit(ev, start)
		return nil, &Error{Call: "socket", Addr: f.String(), Err: err}
	}
	ev.Ret = fd
	c.emit(ev, start)
	return c.adopt(fd, f), nil
}

// adopt wraps a fresh descriptor. The 100 ms send timeout makes a write that
// is stuck on a full send buffer return what it has copied so far (a real
// short write, which Write then reports and continues), so that it, too, can
// be stopped by Close.
func (c Caller) adopt(fd int, f Family) *Socket {
	tv := unix.NsecToTimeval(int64(tick))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	s := &Socket{fd: fd, family: f, caller: c}
	s.idle.L = &s.mu
	return s
}

// FD returns the descriptor number, as the trace shows it.
func (s *Socket) FD() int { return s.fd }

// Family returns AF_INET or AF_INET6.
func (s *Socket) Family() Family { return s.family }

// Peer returns the address given to Connect or returned by Accept.
func (s *Socket) Peer() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer
}

// SetTimeout bounds every later blocking call (accept, connect, read,
// write) to d; 0 means wait for ever. A call that times out returns an error
// that wraps os.ErrDeadlineExceeded. It is not a system call and not traced.
func (s *Socket) SetTimeout(d time.Duration) {
	s.mu.Lock()
	s.timeout = d
	s.mu.Unlock()
}

// enter marks a call in progress so that Close waits for it instead of
// closing (and letting the kernel reuse) the descriptor under it.
func (s *Socket) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return net.ErrClosed
	}
	s.busy++
	return nil
}

func (s *Socket) leave() {
	s.mu.Lock()
	s.busy--
	if s.busy == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
}

func (s *Socket) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// wait blocks until the descriptor is ready for events (POLLIN, POLLOUT),
// polling in slices of tick so that Close and the timeout are noticed. Being
// "ready" includes an error or hang-up: the call made next reports it.
func (s *Socket) wait(events int16) error {
	s.mu.Lock()
	timeout := s.timeout
	s.mu.Unlock()
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}}
	for {
		if s.isClosing() {
			return net.ErrClosed
		}
		slice := tick
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			slice = min(slice, left)
		}
		ms := max(1, int((slice+time.Millisecond-1)/time.Millisecond))
		fds[0].Revents = 0
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			if fds[0].Revents&unix.POLLNVAL != 0 {
				return net.ErrClosed
			}
			return nil
		}
	}
}

// fail wraps a call's error with the address it concerned.
func fail(call string, ap netip.AddrPort, err error) error {
	e := &Error{Call: call, Err: err}
	if ap.IsValid() {
		e.Addr = ap.String()
	}
	return e
}

// peerOrLocal is the address to name in a read or write error.
func (s *Socket) peerOrLocal() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer.IsValid() {
		return s.peer
	}
	return s.local
}

// Bind is bind(2): give the socket a local address. Port 0 lets the kernel
// choose; Getsockname tells which it chose.
func (s *Socket) Bind(ap netip.AddrPort) error {
	if err := s.enter(); err != nil {
		return fail("bind", ap, err)
	}
	defer s.leave()
	sa, err := sockaddr(ap)
	if err != nil {
		return fail("bind", ap, err)
	}
	start := time.Now()
	err = unix.Bind(s.fd, sa)
	s.caller.emit(Event{Call: "bind", FD: s.fd, Addr: ap, Err: err}, start)
	if err != nil {
		return fail("bind", ap, err)
	}
	s.mu.Lock()
	s.local = ap
	s.mu.Unlock()
	return nil
}

// Listen is listen(2): turn a bound socket into a listening one, with room
// for backlog connections that completed the handshake but are not yet
// accepted.
func (s *Socket) Listen(backlog int) error {
	if err := s.enter(); err != nil {
		return fail("listen", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := unix.Listen(s.fd, backlog)
	s.caller.emit(Event{Call: "listen", FD: s.fd, Backlog: backlog, Err: err}, start)
	if err != nil {
		return fail("listen", s.peerOrLocal(), err)
	}
	return nil
}

// Accept is accept(2): wait for a connection that has completed the
// three-way handshake, and return a new socket for it and the peer's
// address. The listening socket stays as it is.
func (s *Socket) Accept() (*Socket, netip.AddrPort, error) {
	if err := s.enter(); err != nil {
		return nil, netip.AddrPort{}, fail("accept", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := s.wait(unix.POLLIN)
	var nfd int
	var sa unix.Sockaddr
	for err == nil {
		syscall.ForkLock.RLock()
		nfd, sa, err = unix.Accept(s.fd)
		if err == nil {
			unix.CloseOnExec(nfd)
		}
		syscall.ForkLock.RUnlock()
		// EINTR: a signal; ECONNABORTED: the client gave up while queued.
		// Neither is this connection's business: accept the next one.
		if err != unix.EINTR && err != unix.ECONNABORTED {
			break
		}
		err = s.wait(unix.POLLIN)
	}
	ev := Event{Call: "accept", FD: s.fd}
	if err != nil {
		ev.Err = err
		s.caller.emit(ev, start)
		return nil, netip.AddrPort{}, fail("accept", s.peerOrLocal(), err)
	}
	peer := addrPort(sa)
	ev.Ret, ev.Addr = nfd, peer
	s.caller.emit(ev, start)
	c := s.caller.adopt(nfd, s.family)
	c.peer = peer
	return c, peer, nil
}

// Connect is connect(2): start the three-way handshake with ap and wait
// for it to finish. For the wait to be stoppable (Close, SetTimeout) the
// socket is made non-blocking for the duration of this one call, and the
// result fetched with getsockopt(SO_ERROR) once poll says it is writable —
// what a C program with a connect timeout does.
func (s *Socket) Connect(ap netip.AddrPort) error {
	if err := s.enter(); err != nil {
		return fail("connect", ap, err)
	}
	defer s.leave()
	sa, err := sockaddr(ap)
	if err != nil {
		return fail("connect", ap, err)
	}
	start := time.Now()
	err = s.connect(sa)
	var local netip.AddrPort
	if err == nil {
		if lsa, lerr := unix.Getsockname(s.fd); lerr == nil {
			local = addrPort(lsa)
		}
	}
	s.caller.emit(Event{Call: "connect", FD: s.fd, Addr: ap, Local: local, Err: err}, start)
	if err != nil {
		return fail("connect", ap, err)
	}
	s.mu.Lock()
	s.peer = ap
	s.mu.Unlock()
	return nil
}

func (s *Socket) connect(sa unix.Sockaddr) error {
	if err := unix.SetNonblock(s.fd, true); err != nil {
		return err
	}
	defer unix.SetNonblock(s.fd, false)
	err := unix.Connect(s.fd, sa)
	if err != unix.EINPROGRESS && err != unix.EINTR {
		return err
	}
	if err := s.wait(unix.POLLOUT); err != nil {
		return err
	}
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// Getsockname is getsockname(2): the local address and port, the way to
// learn which port the kernel picked for bind(port 0) or for a client.
func (s *Socket) Getsockname() (netip.AddrPort, error) {
	return s.name("getsockname", unix.Getsockname)
}

// Getpeername is getpeername(2): the address and port of the other end.
func (s *Socket) Getpeername() (netip.AddrPort, error) {
	return s.name("getpeername", unix.Getpeername)
}

func (s *Socket) name(call string, get func(int) (unix.Sockaddr, error)) (netip.AddrPort, error) {
	if err := s.enter(); err != nil {
		return netip.AddrPort{}, fail(call, netip.AddrPort{}, err)
	}
	defer s.leave()
	start := time.Now()
	sa, err := get(s.fd)
	ev := Event{Call: call, FD: s.fd, Err: err}
	var ap netip.AddrPort
	if err == nil {
		ap = addrPort(sa)
		ev.Addr = ap
	}
	s.caller.emit(ev, start)
	if err != nil {
		return netip.AddrPort{}, fail(call, s.peerOrLocal(), err)
	}
	return ap, nil
}

// Read is read(2): wait for data and take what is there, at most len(p)
// bytes — often fewer than the peer wrote in one go (a short read), never
// more than one read(2) call returns. At end of stream (the peer sent FIN,
// read returned 0) it returns 0, io.EOF, so a Socket is an io.Reader.
func (s *Socket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.enter(); err != nil {
		return 0, fail("read", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := s.wait(unix.POLLIN)
	n := 0
	for err == nil {
		n, err = unix.Read(s.fd, p)
		if err != unix.EINTR {
			break
		}
	}
	ev := Event{Call: "read", FD: s.fd, Count: len(p)}
	switch {
	case err != nil:
		ev.Err = err
		s.caller.emit(ev, start)
		return 0, fail("read", s.peerOrLocal(), err)
	case n == 0:
		s.caller.emit(ev, start)
		return 0, io.EOF
	}
	ev.Ret = n
	if s.caller.Trace != nil {
		ev.Data = keep(p[:n])
	}
	s.caller.emit(ev, start)
	return n, nil
}

// Write writes all of p: it calls write(2), and when the kernel took only
// part (a short write: the send buffer was full) it calls again with the
// rest, reporting every call. It returns len(p) or an error, so a Socket is
// an io.Writer.
//
// A write(2) that the send timeout ended before it copied a single byte
// returns EAGAIN; that is housekeeping (see the package doc), not traced,
// and simply repeated.
func (s *Socket) Write(p []byte) (int, error) {
	if err := s.enter(); err != nil {
		return 0, fail("write", s.peerOrLocal(), err)
	}
	defer s.leave()
	done := 0
	start := time.Now()
	for done < len(p) {
		rest := p[done:]
		err := s.wait(unix.POLLOUT)
		n := 0
		if err == nil {
			n, err = unix.Write(s.fd, rest)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
		}
		ev := Event{Call: "write", FD: s.fd, Count: len(rest), Err: err}
		if s.caller.Trace != nil {
			ev.Data = keep(rest)
		}
		if err != nil {
			s.caller.emit(ev, start)
			return done, fail("write", s.peerOrLocal(), err)
		}
		ev.Ret = n
		s.caller.emit(ev, start)
		start = time.Now()
		done += n
	}
	return done, nil
}

// Shutdown is shutdown(2): close one or both directions of the connection
// while keeping the descriptor. ShutWR sends FIN (a half-close): the peer
// reads EOF but can still send to us.
func (s *Socket) Shutdown(how How) error {
	if err := s.enter(); err != nil {
		return fail("shutdown", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := unix.Shutdown(s.fd, int(how))
	s.caller.emit(Event{Call: "shutdown", FD: s.fd, How: how, Err: err}, start)
	if err != nil {
		return fail("shutdown", s.peerOrLocal(), err)
	}
	return nil
}

// Close is close(2). Safe to call from another goroutine while a call is
// blocked on the socket: that call returns an error wrapping net.ErrClosed
// within 100 ms, and only then is the descriptor closed, so its number
// cannot be reused under the blocked call. A second Close returns an error
// wrapping net.ErrClosed and makes no system call.
//
// On a connected socket the kernel then sends FIN — or RST, if
// SetLingerReset was called or unread data is left in the receive buffer.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return fail("close", netip.AddrPort{}, net.ErrClosed)
	}
	s.closing = true
	for s.busy > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	start := time.Now()
	err := unix.Close(s.fd)
	s.caller.emit(Event{Call: "close", FD: s.fd, Err: err}, start)
	if err != nil {
		return fail("close", s.peerOrLocal(), err)
	}
	return nil
}
