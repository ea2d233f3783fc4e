//go:build linux && (amd64 || arm64)

package trace

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/ref/sock"
)

const (
	maxSockaddr       = 128 // sizeof(struct sockaddr_storage)
	maxIovecs         = 64  // iovec entries looked at per call
	oCloexec          = 0o2000000
	fDupfd            = 0
	fSetfd            = 2
	fDupfdCloex       = 1030
	closeRangeUnshare = 2
	closeRangeCloexec = 4
)

func nativeUint64(b []byte) uint64 { return binary.NativeEndian.Uint64(b) }

// readMem copies up to n bytes at addr out of task tid's memory with
// process_vm_readv, or word by word with PTRACE_PEEKDATA where that is
// refused (some hardened kernels); it returns what could be read.
func readMem(tid int, addr uint64, n int) ([]byte, error) {
	if n <= 0 || addr == 0 {
		return nil, nil
	}
	buf := make([]byte, n)
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(n)
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: n}}
	got, err := unix.ProcessVMReadv(tid, local, remote, 0)
	if err == nil {
		return buf[:got], nil
	}
	got, perr := unix.PtracePeekData(tid, uintptr(addr), buf)
	if got > 0 {
		return buf[:got], nil
	}
	if perr != nil {
		return nil, perr
	}
	return nil, err
}

func (t *tracer) readSockaddr(tid int, addr, n uint64) (Sockaddr, bool) {
	if addr == 0 || n == 0 {
		return Sockaddr{}, false
	}
	b, _ := readMem(tid, addr, int(min(n, maxSockaddr)))
	sa, err := ParseSockaddr(b)
	return sa, err == nil
}

// readSocklen reads a socklen_t *.
func readSocklen(tid int, addr uint64) uint64 {
	b, _ := readMem(tid, addr, 4)
	if len(b) < 4 {
		return 0
	}
	return uint64(binary.NativeEndian.Uint32(b))
}

// readIov copies up to max bytes (and at most total) from an iovec array.
func (t *tracer) readIov(tid int, iovAddr, count uint64, total int) []byte {
	count = min(count, maxIovecs)
	raw, _ := readMem(tid, iovAddr, int(count)*iovecSize)
	var out []byte
	limit := min(total, t.max)
	for _, v := range ParseIovecs(raw) {
		if len(out) >= limit {
			break
		}
		n := int(min(v.Len, uint64(limit-len(out))))
		b, _ := readMem(tid, v.Base, n)
		out = append(out, b...)
		if len(b) < n {
			break
		}
	}
	return out
}

// iovTotal sums the lengths of an iovec array: what writev asked to send.
func iovTotal(tid int, iovAddr, count uint64) uint64 {
	raw, _ := readMem(tid, iovAddr, int(min(count, maxIovecs))*iovecSize)
	var n uint64
	for _, v := range ParseIovecs(raw) {
		n += v.Len
	}
	return n
}

// names asks the socket itself for its addresses: the descriptor is
// copied into the tracer with pidfd_getfd (allowed to a tracer), then
// getsockname and getpeername. This is how the tracer learns the port the
// kernel picked for a connect without bind, which the program never sees.
func names(tgid, fd int) (local, peer netip.AddrPort) {
	pidfd, err := unix.PidfdOpen(tgid, 0)
	if err != nil {
		return
	}
	defer unix.Close(pidfd)
	nfd, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return
	}
	defer unix.Close(nfd)
	if sa, err := unix.Getsockname(nfd); err == nil {
		local = addrPortOf(sa)
	}
	if sa, err := unix.Getpeername(nfd); err == nil {
		peer = addrPortOf(sa)
	}
	return
}

func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// learn fills in a socket's addresses from the socket itself.
func learn(pr *process, fd int, s *sockInfo) {
	l, p := names(pr.tgid, fd)
	if l.IsValid() {
		s.local = l
	}
	if p.IsValid() {
		s.peer = p
	}
}

// exitGroup reports a process's exit when it still holds sockets: the
// kernel closes them (and sends their FINs) as the process ends, which is
// where a program that forgot close() sees its FIN come from.
func (t *tracer) exitGroup(th *thread, now time.Time) {
	pr := th.proc
	if pr == nil || pr.fds.refs > 1 || len(pr.fds.m) == 0 {
		return
	}
	t.emit(th, sock.Event{Call: "exit_group", FD: -1, Value: int(int32(th.args[0]))}, now, now)
}

func (t *tracer) emit(th *thread, e sock.Event, start, now time.Time) {
	if t.p.cfg.Emit == nil {
		return
	}
	e.Who = t.p.cfg.Who
	e.PID = th.proc.tgid
	e.Time = now
	e.Took = now.Sub(start)
	t.p.cfg.Emit(e)
}

// call turns a finished socket-related system call into an Event and
// keeps the descriptor tables up to date.
func (t *tracer) call(th *thread, ret int64, now time.Time) {
	pr, a, tid := th.proc, th.args, th.tid
	tab := pr.fds
	errno := errnoOf(ret)
	fd := int(int32(a[0]))
	ev := sock.Event{Call: callName[th.kind], FD: fd}
	if errno != 0 {
		ev.Err = errno
	} else {
		ev.Ret = int(ret)
	}

	switch th.kind {
	case kSocket:
		fam, typ := int(a[0]), int(a[1])
		if fam != afInet && fam != afInet6 {
			return // only IP sockets are followed
		}
		ev.FD, ev.Domain, ev.Type, ev.Protocol = -1, sock.Family(fam), typ, int(a[2])
		if errno == 0 {
			tab.m[int(ret)] = fdEntry{s: &sockInfo{family: fam, typ: typ}, cloexec: typ&sockCloexec != 0}
		}
		t.send(th, ev, now)
		return
	case kClose:
		s := tab.get(fd)
		if s == nil {
			return
		}
		delete(tab.m, fd) // closed even when close reports an error
		ev.Local, ev.Peer = s.local, s.peer
		ev.Shared = t.holders(s)
		t.countConns()
		t.send(th, ev, now)
		return
	case kDup, kDup2, kDup3, kFcntl, kCloseRange:
		t.descriptors(th, ret, errno)
		return
	}

	s := tab.get(fd)
	if s == nil {
		if (fd == 1 || fd == 2) && errno == 0 && ret > 0 && (th.kind == kWrite || th.kind == kWritev) && t.p.cfg.OnOutput != nil {
			t.p.cfg.OnOutput(fd, int(ret), th.entry)
		}
		return
	}
	// Fold non-blocking retries: remember when the first attempt began and
	// report only the one that finally gets through.
	if interrupted(errno) && (th.kind.input() || th.kind.output()) {
		if th.kind.input() && s.pendingIn.IsZero() {
			s.pendingIn = th.entry.Add(-th.waited)
		}
		if th.kind.output() && s.pendingOut.IsZero() {
			s.pendingOut = th.entry.Add(-th.waited)
		}
		return
	}
	blocked := th.waited
	if th.kind.input() && !s.pendingIn.IsZero() {
		blocked, s.pendingIn = th.entry.Sub(s.pendingIn), time.Time{}
	}
	if th.kind.output() && !s.pendingOut.IsZero() {
		blocked, s.pendingOut = th.entry.Sub(s.pendingOut), time.Time{}
	}
	ev.Blocked = blocked

	switch th.kind {
	case kBind, kConnect:
		sa, ok := t.readSockaddr(tid, a[1], a[2])
		if ok {
			ev.Addr = sa.Addr
		}
		if th.kind == kBind {
			if errno == 0 {
				s.local = sa.Addr
			}
		} else {
			s.peer = sa.Addr
			if errno == 0 || errno == unix.EINPROGRESS {
				s.connected = true
				learn(pr, fd, s)
				s.peer = sa.Addr
				t.countConns()
			}
		}
	case kListen:
		ev.Backlog = int(int32(a[1]))
		if errno == 0 {
			s.listening = true
			learn(pr, fd, s)
			if !t.listen && t.p.cfg.OnListen != nil {
				t.listen = true
				t.p.cfg.OnListen(s.local)
			}
		}
	case kAccept, kAccept4:
		if errno != 0 {
			break
		}
		nfd := int(ret)
		ns := &sockInfo{family: s.family, typ: s.typ, connected: true, local: s.local}
		if sa, ok := t.readSockaddr(tid, a[1], readSocklen(tid, a[2])); ok && sa.Addr.IsValid() {
			ns.peer = sa.Addr
		}
		learn(pr, nfd, ns)
		tab.m[nfd] = fdEntry{s: ns, cloexec: th.kind == kAccept4 && a[3]&sockCloexec != 0}
		t.countConns()
		ev.Addr = ns.peer
		ev.Local, ev.Peer = ns.local, ns.peer
		t.send(th, ev, now)
		return
	case kRead, kRecvfrom, kRecvmsg, kReadv, kWrite, kSendto, kSendmsg, kWritev:
		ev.Count = int(t.count(th))
		switch {
		case errno == 0:
			ev.Data = t.payload(th, int(ret))
		case th.kind.output():
			ev.Data = t.payload(th, ev.Count)
		}
	case kShutdown:
		ev.How = sock.How(int32(a[1]))
	case kSendfile:
		ev.Value, ev.Count = int(int32(a[1])), int(a[3])
	case kGetsockname, kGetpeername:
		if errno != 0 {
			break
		}
		if sa, ok := t.readSockaddr(tid, a[1], readSocklen(tid, a[2])); ok {
			ev.Addr = sa.Addr
			if th.kind == kGetsockname {
				s.local = sa.Addr
			} else {
				s.peer = sa.Addr
			}
		}
	case kSetsockopt, kGetsockopt:
		ev.Level, ev.Option = int(int32(a[1])), int(int32(a[2]))
		var val []byte
		if th.kind == kSetsockopt {
			val, _ = readMem(tid, a[3], int(min(a[4], 64)))
		} else if errno == 0 {
			val, _ = readMem(tid, a[3], int(min(readSocklen(tid, a[4]), 64)))
		}
		if ev.Level == 1 && ev.Option == 13 && len(val) >= 8 { // SO_LINGER
			ev.Linger = &sock.Linger{Onoff: int(int32(binary.NativeEndian.Uint32(val))), Linger: int(int32(binary.NativeEndian.Uint32(val[4:])))}
		} else if len(val) >= 4 {
			ev.Value = int(int32(binary.NativeEndian.Uint32(val)))
		} else if len(val) > 0 {
			ev.Value = int(val[0])
		}
		if th.kind == kGetsockopt && ev.Level == 1 && ev.Option == 4 && ev.Value != 0 {
			// SO_ERROR after a non-blocking connect: the connect failed.
			s.connected = false
			t.countConns()
		}
	}
	ev.Local, ev.Peer = s.local, s.peer
	t.send(th, ev, now)
}

// holders counts the descriptors of live processes that hold s.
func (t *tracer) holders(s *sockInfo) int {
	n := 0
	seen := map[*fdTable]bool{}
	for _, pr := range t.procs {
		if seen[pr.fds] {
			continue
		}
		seen[pr.fds] = true
		for _, e := range pr.fds.m {
			if e.s == s {
				n++
			}
		}
	}
	return n
}

// send emits ev with Took measured from the call's own entry stop: the
// lecture places a write where it began and a read where it returned.
func (t *tracer) send(th *thread, ev sock.Event, now time.Time) {
	t.emit(th, ev, th.entry, now)
}

// count is a read's or write's count argument: the buffer's size, or the
// bytes asked to be sent (for the vector forms, the iovecs' total).
func (t *tracer) count(th *thread) uint64 {
	a := th.args
	switch th.kind {
	case kRead, kWrite, kRecvfrom, kSendto:
		return a[2]
	case kReadv, kWritev:
		return iovTotal(th.tid, a[1], a[2])
	case kRecvmsg, kSendmsg:
		raw, _ := readMem(th.tid, a[1], msghdrSize)
		if m, err := ParseMsghdr(raw); err == nil {
			return iovTotal(th.tid, m.Iov, m.IovLen)
		}
	}
	return 0
}

// payload copies the first bytes a read-like call filled in or a
// write-like call sent (n of them in all), bounded by MaxData.
func (t *tracer) payload(th *thread, n int) []byte {
	if n <= 0 {
		return nil
	}
	a := th.args
	switch th.kind {
	case kRead, kRecvfrom, kWrite, kSendto:
		b, _ := readMem(th.tid, a[1], min(n, t.max))
		return b
	case kReadv, kWritev:
		return t.readIov(th.tid, a[1], a[2], n)
	case kRecvmsg, kSendmsg:
		raw, _ := readMem(th.tid, a[1], msghdrSize)
		if m, err := ParseMsghdr(raw); err == nil {
			return t.readIov(th.tid, m.Iov, m.IovLen, n)
		}
	}
	return nil
}

// descriptors follows dup, dup2, dup3, fcntl and close_range, which copy
// or drop descriptors without a socket call: a socket dup'ed onto 0 and 1
// (inetd style) is still that socket.
func (t *tracer) descriptors(th *thread, ret int64, errno unix.Errno) {
	tab, a := th.proc.fds, th.args
	if errno != 0 {
		return
	}
	old := int(int32(a[0]))
	switch th.kind {
	case kDup:
		if e, ok := tab.m[old]; ok {
			tab.m[int(ret)] = fdEntry{s: e.s}
		}
	case kDup2, kDup3:
		nfd := int(int32(a[1]))
		if nfd == old {
			return
		}
		delete(tab.m, nfd)
		if e, ok := tab.m[old]; ok {
			tab.m[nfd] = fdEntry{s: e.s, cloexec: th.kind == kDup3 && a[2]&oCloexec != 0}
		}
	case kFcntl:
		e, ok := tab.m[old]
		if !ok {
			return
		}
		switch a[1] {
		case fDupfd, fDupfdCloex:
			tab.m[int(ret)] = fdEntry{s: e.s, cloexec: a[1] == fDupfdCloex}
		case fSetfd:
			e.cloexec = a[2]&1 != 0
			tab.m[old] = e
		}
	case kCloseRange:
		first, last := uint64(uint32(a[0])), uint64(uint32(a[1]))
		if a[2]&closeRangeUnshare != 0 && tab.refs > 1 {
			tab.refs--
			tab = tab.copy()
			th.proc.fds = tab
		}
		for fd, e := range tab.m {
			if uint64(fd) < first || uint64(fd) > last {
				continue
			}
			if a[2]&closeRangeCloexec != 0 {
				e.cloexec = true
				tab.m[fd] = e
			} else {
				delete(tab.m, fd)
			}
		}
	}
	t.countConns()
}
