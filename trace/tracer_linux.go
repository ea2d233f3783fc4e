//go:build linux && (amd64 || arm64)

package trace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// ptrace options: syscall stops marked with 0x80, every new thread and
// process traced too, exec reported, and the whole tree killed if the
// tracer dies (a student's server must not outlive tcpscope).
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK |
	unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL

// Program is a program running under the tracer.
type Program struct {
	cfg   Config
	pid   int
	done  chan struct{}
	exit  Exit
	conns atomic.Int64

	mu   sync.Mutex
	tids map[int]bool // every live traced task, for Signal(SIGKILL)
}

// thread is one traced task (a thread or a single-threaded process).
type thread struct {
	tid       int
	proc      *process
	inSyscall bool
	fresh     bool // just created: its first stop is the kernel's SIGSTOP, to be swallowed

	// the call in progress, from its entry stop
	kind  kind
	nr    uint64
	args  [6]uint64
	entry time.Time
	flags uint64 // clone flags, read at entry

	waited time.Duration // poll/select/epoll time just before the next call

	sig   syscall.Signal // the last signal about to be delivered to it
	sigAt time.Time      // and when: the moment of a crash
}

// process is a thread group: its descriptor table and live thread count.
type process struct {
	tgid    int
	fds     *fdTable
	threads int
}

type tracer struct {
	p       *Program
	threads map[int]*thread
	procs   map[int]*process
	orphans map[int]bool // new tasks that stopped before their parent's fork event
	max     int
	listen  bool // OnListen already called
}

// Start runs cfg.Path under the tracer and returns once it has been
// exec'ed (or could not be). The program's socket calls go to cfg.Emit
// until it and all its children have exited; Done is closed then.
func Start(cfg Config) (*Program, error) {
	p := &Program{cfg: cfg, done: make(chan struct{}), tids: map[int]bool{}}
	errc := make(chan error, 1)
	go p.run(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return p, nil
}

// Pid is the program's process id (also its process group id).
func (p *Program) Pid() int { return p.pid }

// Done is closed when the program and every process it started have ended.
func (p *Program) Done() <-chan struct{} { return p.done }

// Exit is how the program (the first process) ended; valid after Done.
func (p *Program) Exit() Exit { return p.exit }

// OpenConns is the number of connected sockets the program's processes
// still hold open (a descriptor shared by several processes counts once).
func (p *Program) OpenConns() int { return int(p.conns.Load()) }

// Signal sends sig to the program's process group and, so that a child
// that left the group does not escape, to every task still traced.
func (p *Program) Signal(sig syscall.Signal) error {
	err := unix.Kill(-p.pid, sig)
	p.mu.Lock()
	for tid := range p.tids {
		_ = unix.Kill(tid, sig) // a thread's id names its process
	}
	p.mu.Unlock()
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

func (p *Program) run(errc chan<- error) {
	// ptrace requests are only accepted from the thread that is the
	// tracer, which is the thread that forked the program. The goroutine
	// keeps it to the end and never unlocks it, so the Go runtime throws
	// the thread away afterwards instead of reusing it.
	runtime.LockOSThread()
	defer close(p.done)
	cfg := p.cfg
	files := make([]uintptr, 3)
	for i, f := range []*os.File{cfg.Stdin, cfg.Stdout, cfg.Stderr} {
		if f == nil {
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				errc <- err
				return
			}
			defer null.Close()
			f = null
		}
		files[i] = f.Fd()
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	attr := &syscall.ProcAttr{Dir: cfg.Dir, Env: env, Files: files, Sys: &syscall.SysProcAttr{
		Ptrace: true, Setpgid: true, Credential: cfg.Cred, Pdeathsig: syscall.SIGKILL,
	}}
	pid, err := syscall.ForkExec(cfg.Path, cfg.Argv, attr)
	if err != nil {
		errc <- err
		return
	}
	p.pid = pid
	// The first stop is the SIGTRAP that follows a traced execve.
	var ws unix.WaitStatus
	if _, err := wait4(pid, &ws); err != nil {
		errc <- err
		return
	}
	if !ws.Stopped() {
		p.exit = exitOf(ws)
		errc <- fmt.Errorf("%s ended before it started: %v", cfg.Path, p.exit)
		return
	}
	if err := unix.PtraceSetOptions(pid, ptraceOptions); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		wait4(pid, &ws)
		errc <- fmt.Errorf("ptrace: %v", err)
		return
	}
	t := &tracer{p: p, threads: map[int]*thread{}, procs: map[int]*process{}, orphans: map[int]bool{}, max: cfg.MaxData}
	if t.max <= 0 {
		t.max = 256
	}
	pr := &process{tgid: pid, fds: newTable(), threads: 1}
	t.procs[pid] = pr
	t.addThread(&thread{tid: pid, proc: pr})
	errc <- nil
	if err := unix.PtraceSyscall(pid, 0); err != nil {
		p.exit.Err = err
	}
	t.loop()
}

// wait4 waits for this thread's own tracees only (__WNOTHREAD): two
// programs traced at once from two threads must not steal each other's
// stops.
func wait4(pid int, ws *unix.WaitStatus) (int, error) {
	for {
		wpid, err := unix.Wait4(pid, ws, unix.WALL|unix.WNOTHREAD, nil)
		if err != unix.EINTR {
			return wpid, err
		}
	}
}

func exitOf(ws unix.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Signal: ws.Signal(), Core: ws.CoreDump()}
	}
	return Exit{Code: ws.ExitStatus()}
}

func (t *tracer) addThread(th *thread) {
	t.threads[th.tid] = th
	t.p.mu.Lock()
	t.p.tids[th.tid] = true
	t.p.mu.Unlock()
}

func (t *tracer) dropThread(tid int) {
	th := t.threads[tid]
	delete(t.threads, tid)
	t.p.mu.Lock()
	delete(t.p.tids, tid)
	t.p.mu.Unlock()
	if th == nil || th.proc == nil {
		return
	}
	pr := th.proc
	pr.threads--
	if pr.threads <= 0 {
		delete(t.procs, pr.tgid)
		pr.fds.refs--
		t.countConns()
	}
}

// loop handles every stop of every traced task until none is left.
func (t *tracer) loop() {
	for len(t.threads) > 0 || len(t.orphans) > 0 {
		var ws unix.WaitStatus
		tid, err := wait4(-1, &ws)
		if err != nil {
			if err != unix.ECHILD {
				t.p.exit.Err = err
			}
			return
		}
		now := time.Now()
		if ws.Exited() || ws.Signaled() {
			if tid == t.p.pid {
				t.p.exit = exitOf(ws)
			}
			if th := t.threads[tid]; ws.Signaled() && th != nil && th.proc != nil && th.proc.tgid == tid {
				// A crash is part of the story: the kernel closes the
				// process's sockets (FIN, or RST over unread data).
				at := now
				if th.sig == ws.Signal() {
					at = th.sigAt
				}
				t.emit(th, sock.Event{Call: "killed", FD: -1, Value: int(ws.Signal())}, at, at)
			}
			delete(t.orphans, tid)
			t.dropThread(tid)
			continue
		}
		if !ws.Stopped() {
			continue
		}
		th := t.threads[tid]
		if th == nil {
			// A new task whose own first stop came before its parent's
			// fork/clone event: hold it until we know whose it is.
			t.orphans[tid] = true
			continue
		}
		sig := ws.StopSignal()
		deliver := 0
		switch {
		case sig == unix.SIGTRAP|0x80:
			t.syscallStop(th, now)
		case sig == unix.SIGTRAP && ws.TrapCause() > 0:
			t.event(th, ws.TrapCause())
		case sig == unix.SIGSTOP && th.fresh:
			th.fresh = false
		default:
			deliver = int(sig)
			th.sig, th.sigAt = sig, now
		}
		_ = unix.PtraceSyscall(tid, deliver)
	}
}

// event handles a ptrace event stop: a new task, or an exec.
func (t *tracer) event(th *thread, cause int) {
	switch cause {
	case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
		msg, err := unix.PtraceGetEventMsg(th.tid)
		if err != nil {
			return
		}
		child := int(msg)
		flags := th.flags
		if th.kind == kFork {
			flags = 0
		}
		nt := &thread{tid: child, fresh: true}
		switch {
		case flags&unix.CLONE_THREAD != 0:
			nt.proc = th.proc
			th.proc.threads++
		case flags&unix.CLONE_FILES != 0:
			th.proc.fds.refs++
			nt.proc = &process{tgid: child, fds: th.proc.fds, threads: 1}
			t.procs[child] = nt.proc
		default:
			nt.proc = &process{tgid: child, fds: th.proc.fds.copy(), threads: 1}
			t.procs[child] = nt.proc
		}
		t.addThread(nt)
		t.countConns()
		if t.orphans[child] {
			// Its SIGSTOP was already seen: let it run.
			delete(t.orphans, child)
			nt.fresh = false
			_ = unix.PtraceSyscall(child, 0)
		}
	case unix.PTRACE_EVENT_EXEC:
		// A non-leader thread that execs takes the leader's id; its
		// former id is the event message.
		if msg, err := unix.PtraceGetEventMsg(th.tid); err == nil && int(msg) != th.tid {
			if old := t.threads[int(msg)]; old != nil {
				delete(t.threads, int(msg))
				th.inSyscall, th.kind = old.inSyscall, old.kind
			}
		}
		pr := th.proc
		pr.threads = 1
		if pr.fds.refs > 1 {
			pr.fds.refs--
			pr.fds = pr.fds.copy()
		}
		pr.fds.exec()
		t.countConns()
	}
}

// countConns publishes how many distinct connected sockets live
// processes hold.
func (t *tracer) countConns() {
	seen := map[*sockInfo]bool{}
	for _, pr := range t.procs {
		for _, e := range pr.fds.m {
			if e.s.connected {
				seen[e.s] = true
			}
		}
	}
	t.p.conns.Store(int64(len(seen)))
}

// syscallStop is a system call's entry or exit.
func (t *tracer) syscallStop(th *thread, now time.Time) {
	if !th.inSyscall {
		nr, args, _, err := regs(th.tid)
		if err != nil {
			return
		}
		th.inSyscall = true
		th.nr, th.args, th.entry, th.kind = nr, args, now, kinds[nr]
		th.flags = 0
		switch th.kind {
		case kClone:
			th.flags = args[0]
		case kClone3:
			if b, err := readMem(th.tid, args[0], 8); err == nil && len(b) == 8 {
				th.flags = nativeUint64(b)
			}
		case kExitGroup:
			t.exitGroup(th, now)
		}
		return
	}
	th.inSyscall = false
	_, _, ret, err := regs(th.tid)
	if err != nil {
		return
	}
	switch th.kind {
	case kWait:
		th.waited += now.Sub(th.entry)
		return
	case kOther, kClone, kClone3, kFork, kExecve, kExitGroup:
		th.waited = 0
		return
	}
	t.call(th, ret, now)
	th.waited = 0
}

// errnoOf splits a raw return value into a result or an errno.
func errnoOf(ret int64) unix.Errno {
	if ret < 0 && ret > -4096 {
		return unix.Errno(-ret)
	}
	return 0
}

// interrupted is a call the kernel will restart or the program retries:
// EAGAIN from a non-blocking socket, EINTR and the kernel's internal
// restart codes (ERESTARTSYS 512 … ERESTART_RESTARTBLOCK 516).
func interrupted(e unix.Errno) bool {
	return e == unix.EAGAIN || e == unix.EINTR || (e >= 512 && e <= 516)
}
