//go:build unix

package sock

import (
	"time"

	"golang.org/x/sys/unix"
)

// setsockopt runs one traced setsockopt(2) with an int value.
func (s *Socket) setInt(level, opt int, v int) error {
	if err := s.enter(); err != nil {
		return fail("setsockopt "+OptionName(level, opt), s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := unix.SetsockoptInt(s.fd, level, opt, v)
	s.caller.emit(Event{Call: "setsockopt", FD: s.fd, Level: level, Option: opt, Value: v, Err: err}, start)
	if err != nil {
		return fail("setsockopt "+OptionName(level, opt), s.peerOrLocal(), err)
	}
	return nil
}

func boolInt(on bool) int {
	if on {
		return 1
	}
	return 0
}

// SetReuseAddr sets SO_REUSEADDR, which lets a restarted server bind its
// port again while connections of the previous run sit in TIME_WAIT. It
// does not let two servers listen on the same port.
func (s *Socket) SetReuseAddr(on bool) error {
	return s.setInt(unix.SOL_SOCKET, unix.SO_REUSEADDR, boolInt(on))
}

// SetRcvBuf sets SO_RCVBUF, the receive buffer, which bounds the window the
// socket advertises. Set it before listen (or connect) for it to shape the
// window scale negotiated in the handshake; a listening socket passes it on
// to accepted ones. Linux doubles the value asked for (bookkeeping room);
// RcvBuf shows what the kernel made of it.
func (s *Socket) SetRcvBuf(n int) error {
	return s.setInt(unix.SOL_SOCKET, unix.SO_RCVBUF, n)
}

// SetSndBuf sets SO_SNDBUF, the send buffer: how much written data the
// kernel keeps before write blocks.
func (s *Socket) SetSndBuf(n int) error {
	return s.setInt(unix.SOL_SOCKET, unix.SO_SNDBUF, n)
}

// SetNoDelay sets TCP_NODELAY, which turns off Nagle's algorithm: small
// writes go out at once instead of waiting for the previous segment's ACK.
func (s *Socket) SetNoDelay(on bool) error {
	return s.setInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(on))
}

// SetLingerReset sets SO_LINGER to {l_onoff=1, l_linger=0}: the next Close
// is abortive. The kernel throws away unsent data and sends RST instead of
// FIN, skipping TIME_WAIT; the peer's next read or write fails with
// ECONNRESET.
func (s *Socket) SetLingerReset() error {
	if err := s.enter(); err != nil {
		return fail("setsockopt SO_LINGER", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	err := unix.SetsockoptLinger(s.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	s.caller.emit(Event{Call: "setsockopt", FD: s.fd, Level: unix.SOL_SOCKET, Option: unix.SO_LINGER,
		Linger: &Linger{Onoff: 1, Linger: 0}, Err: err}, start)
	if err != nil {
		return fail("setsockopt SO_LINGER", s.peerOrLocal(), err)
	}
	return nil
}

// RcvBuf is getsockopt(SO_RCVBUF): the receive buffer size the kernel
// actually uses, to compare with what SetRcvBuf asked for.
func (s *Socket) RcvBuf() (int, error) {
	if err := s.enter(); err != nil {
		return 0, fail("getsockopt SO_RCVBUF", s.peerOrLocal(), err)
	}
	defer s.leave()
	start := time.Now()
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	s.caller.emit(Event{Call: "getsockopt", FD: s.fd, Level: unix.SOL_SOCKET, Option: unix.SO_RCVBUF, Value: v, Err: err}, start)
	if err != nil {
		return 0, fail("getsockopt SO_RCVBUF", s.peerOrLocal(), err)
	}
	return v, nil
}

// SetMaxSeg sets TCP_MAXSEG, the largest segment payload this socket sends
// and the MSS it advertises in its SYN or SYN-ACK. Set it before connect (or
// on the listening socket before listen, which accepted sockets inherit)
// for the handshake to carry it; one large write then leaves as several
// segments of at most n bytes (less the TCP options they carry).
func (s *Socket) SetMaxSeg(n int) error {
	return s.setInt(unix.IPPROTO_TCP, unix.TCP_MAXSEG, n)
}
