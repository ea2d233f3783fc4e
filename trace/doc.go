// Package trace follows a running program's socket calls from outside, as
// strace does, so that tcpscope can show a student's own client or server
// calls beside the packets they caused.
//
// Why ptrace: it needs no change to the program (C, Python, Go, anything
// that makes system calls), no privilege beyond being the program's parent
// (the tracer starts the program itself, so it works as an ordinary user and
// inside the demo's user namespace), and the kernel reports every fork,
// thread and exec, so a fork-per-client server or a threaded one is followed
// whole. eBPF would need root; LD_PRELOAD misses static binaries and Go.
//
// How: Start forks the program with PTRACE_TRACEME on one OS thread
// (runtime.LockOSThread: ptrace requests must come from the thread that is
// the tracer), sets PTRACE_O_TRACESYSGOOD|TRACECLONE|TRACEFORK|TRACEVFORK|
// TRACEEXEC|EXITKILL and runs a PTRACE_SYSCALL loop: each system call stops
// the program twice, at entry (arguments) and at exit (result). Arguments
// that point into the program's memory (sockaddrs, buffers, iovecs) are
// copied with process_vm_readv, bounded. The pure decoding of those bytes
// is in args.go; the loop and the per-process descriptor tables (which
// descriptors are sockets, shared by threads, copied on fork, closed on
// exec when close-on-exec) are in the Linux files.
//
// Every call on a socket becomes a sock.Event stamped with time.Now() (the
// wall clock, CLOCK_REALTIME, as the capture's packet stamps) at the exit
// stop, with Took measured from the entry stop. Non-blocking retries that
// fail with EAGAIN are folded into the call that finally succeeds, and the
// time spent in poll/select/epoll right before a call is reported as
// Event.Blocked. Each event carries the local and peer address of its
// descriptor (learnt from bind, connect, accept and, where the program did
// not say, from the socket itself via pidfd_getfd and getsockname), so a
// call can be put in its TCP stream.
//
// Only Linux on amd64 and arm64; elsewhere Start says so.
package trace
