package trace

import "golang.org/x/sys/unix"

// arm64 system call numbers (include/uapi/asm-generic/unistd.h): no
// poll, select, dup2 or fork, only their newer forms.
var kinds = map[uint64]kind{
	22: kWait, 23: kDup, 24: kDup3, 25: kFcntl, 57: kClose, 63: kRead, 64: kWrite, 65: kReadv,
	66: kWritev, 71: kSendfile, 72: kWait, 73: kWait, 94: kExitGroup, 198: kSocket, 200: kBind, 201: kListen,
	202: kAccept, 203: kConnect, 204: kGetsockname, 205: kGetpeername, 206: kSendto, 207: kRecvfrom,
	208: kSetsockopt, 209: kGetsockopt, 210: kShutdown, 211: kSendmsg, 212: kRecvmsg, 220: kClone,
	221: kExecve, 242: kAccept4, 281: kExecve, 435: kClone3, 436: kCloseRange, 441: kWait,
}

// regs reads the system call number (x8), its arguments (x0-x5) and, at the
// exit stop, its result (x0, which overwrites the first argument: the
// tracer keeps the arguments from the entry stop).
func regs(tid int) (nr uint64, args [6]uint64, ret int64, err error) {
	var r unix.PtraceRegs
	if err = unix.PtraceGetRegs(tid, &r); err != nil {
		return
	}
	return r.Regs[8], [6]uint64{r.Regs[0], r.Regs[1], r.Regs[2], r.Regs[3], r.Regs[4], r.Regs[5]}, int64(r.Regs[0]), nil
}
