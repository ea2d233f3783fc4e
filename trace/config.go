package trace

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// Config says what to run and where its calls go.
type Config struct {
	Who  string   // "client" or "server": Event.Who
	Path string   // the executable, resolved (exec.LookPath)
	Argv []string // argv, Argv[0] included
	Env  []string // nil: the tracer's environment
	Dir  string   // "": the current directory

	Stdin, Stdout, Stderr *os.File // nil: /dev/null

	// Cred runs the program as this user (set up in the child before exec,
	// supplementary groups as given: an empty list drops them all). nil
	// keeps the tracer's own identity.
	Cred *Credential

	// Emit receives every socket call, in order, from the tracer's own
	// goroutine: it must not block for long (the program is stopped
	// meanwhile) and must be safe to call concurrently with other
	// programs' tracers.
	Emit func(sock.Event)

	// OnListen is called once, when the program's first successful
	// listen(2) returns, with the address the socket listens on; the
	// program is held stopped until it returns.
	OnListen func(netip.AddrPort)

	// OnOutput, when set, is called for every successful write or writev
	// to descriptor 1 or 2 (when those are not sockets) with the bytes
	// written and the moment the call began: the program's output, stamped
	// on the same clock as its calls, which a reader of the pipe cannot do
	// as exactly. Called from the tracer's goroutine.
	OnOutput func(fd, n int, at time.Time)

	// MaxData bounds the bytes of payload copied per read or write call
	// (Event.Data); 0 means 256.
	MaxData int
}

// Exit is how a traced program ended.
type Exit struct {
	Code   int            // exit status, when it exited
	Signal syscall.Signal // the signal that killed it, or 0
	Core   bool           // it dumped core
	Err    error          // the tracer itself failed
}

// OK reports a clean exit with status 0.
func (e Exit) OK() bool { return e.Err == nil && e.Signal == 0 && e.Code == 0 }

func (e Exit) String() string {
	switch {
	case e.Err != nil:
		return "tracing failed: " + e.Err.Error()
	case e.Signal != 0:
		s := fmt.Sprintf("killed by signal %s (%v)", signalName(e.Signal), e.Signal)
		if e.Core {
			s += ", core dumped"
		}
		return s
	}
	return fmt.Sprintf("exited with status %d", e.Code)
}

// signalName names the usual signals as in C.
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
		6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
