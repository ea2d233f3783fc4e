package trace

import "golang.org/x/sys/unix"

// x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
var kinds = map[uint64]kind{
	0: kRead, 1: kWrite, 3: kClose, 7: kWait, 19: kReadv, 20: kWritev, 23: kWait, 32: kDup, 33: kDup2,
	40: kSendfile, 41: kSocket, 42: kConnect, 43: kAccept, 44: kSendto, 45: kRecvfrom, 46: kSendmsg, 47: kRecvmsg,
	48: kShutdown, 49: kBind, 50: kListen, 51: kGetsockname, 52: kGetpeername, 54: kSetsockopt,
	55: kGetsockopt, 56: kClone, 57: kFork, 58: kFork, 59: kExecve, 72: kFcntl, 231: kExitGroup,
	232: kWait, 270: kWait, 271: kWait, 281: kWait, 288: kAccept4, 292: kDup3, 322: kExecve,
	435: kClone3, 436: kCloseRange, 441: kWait,
}

// regs reads the system call number, its six arguments and (at the exit
// stop) its return value. On x86-64 the number stays in orig_rax and the
// arguments in rdi, rsi, rdx, r10, r8, r9; rax becomes the result.
func regs(tid int) (nr uint64, args [6]uint64, ret int64, err error) {
	var r unix.PtraceRegs
	if err = unix.PtraceGetRegs(tid, &r); err != nil {
		return
	}
	return r.Orig_rax, [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}, int64(r.Rax), nil
}
