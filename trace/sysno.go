package trace

// kind is what the tracer does with a system call, whatever its number on
// this CPU.
type kind uint8

const (
	kOther kind = iota
	kSocket
	kSetsockopt
	kGetsockopt
	kBind
	kListen
	kAccept
	kAccept4
	kConnect
	kRead
	kRecvfrom
	kRecvmsg
	kReadv
	kWrite
	kSendto
	kSendmsg
	kWritev
	kShutdown
	kClose
	kGetsockname
	kGetpeername
	kWait // poll, ppoll, select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2
	kDup
	kDup2
	kDup3
	kFcntl
	kClone
	kClone3
	kFork
	kExecve
	kCloseRange
	kExitGroup
	kSendfile
)

// callName is the name shown for each traced call, as strace spells it.
var callName = [...]string{
	kSocket: "socket", kSetsockopt: "setsockopt", kGetsockopt: "getsockopt", kBind: "bind",
	kListen: "listen", kAccept: "accept", kAccept4: "accept4", kConnect: "connect",
	kRead: "read", kRecvfrom: "recvfrom", kRecvmsg: "recvmsg", kReadv: "readv",
	kWrite: "write", kSendto: "sendto", kSendmsg: "sendmsg", kWritev: "writev",
	kShutdown: "shutdown", kClose: "close", kGetsockname: "getsockname", kGetpeername: "getpeername",
	kExitGroup: "exit_group", kSendfile: "sendfile",
}

// direction groups calls whose EAGAIN retries fold together: an accept or
// read that would block waits for input, a write or connect for output.
func (k kind) input() bool {
	switch k {
	case kAccept, kAccept4, kRead, kRecvfrom, kRecvmsg, kReadv:
		return true
	}
	return false
}

func (k kind) output() bool {
	switch k {
	case kWrite, kSendto, kSendmsg, kWritev, kSendfile:
		return true
	}
	return false
}
