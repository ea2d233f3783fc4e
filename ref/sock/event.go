package sock

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	sys "github.com/tcpscope/tcpscope/internal/sysabi"
)

// Event is one socket call as the class should see it: who made it, the call
// with its arguments, and what it returned. It is built after the call has
// returned, so Time is the moment of return and Took is how long the program
// waited inside the call (the interesting number when a call blocks).
//
// The arguments are kept as values, not text, so that anything that watches
// a program's calls (this package's Socket methods, or a ptrace tracer that
// reads them from another process) fills the same struct, and each output
// renders it its own way: String and AppendCall write strace's notation,
// render's JSON writes an object. Only the fields the call has are set; the
// list under each field says which calls use it.
type Event struct {
	Time time.Time     // when the call returned
	Took time.Duration // how long the call blocked, poll waits included
	Who  string        // "client" or "server" (from Caller.Who)
	Call string        // "socket", "bind", "connect", "read", … or "getaddrinfo"

	FD  int   // descriptor the call was made on; -1 when there is none (socket, getaddrinfo)
	Ret int   // return value on success: 0, the new descriptor (socket, accept), bytes moved (read, write)
	Err error // nil on success; usually a sys.Errno

	// socket(domain, type, protocol)
	Domain   Family // AF_INET or AF_INET6
	Type     int    // sys.SOCK_STREAM
	Protocol int    // sys.IPPROTO_TCP (0 lets the kernel choose)

	// Addr is the sockaddr: given to bind and connect, filled in by accept
	// (the peer), getsockname and getpeername. The zero AddrPort: none (a
	// failed accept).
	Addr netip.AddrPort

	Backlog int // listen

	// setsockopt(fd, Level, Option, &Value, len) and getsockopt; Linger
	// replaces Value for SO_LINGER. For getsockopt, Value is what the kernel
	// returned.
	Level, Option int
	Value         int
	Linger        *Linger

	How How // shutdown

	// read and write: Count is the count argument (read: the buffer's size;
	// write: the bytes asked to be written), Data the first bytes actually
	// moved (at most MaxData of Ret; a ptrace tracer may keep fewer).
	Count int
	Data  []byte

	// getaddrinfo: the name looked up and the addresses it gave, in order.
	Host  string
	Addrs []netip.Addr

	// Filled for programs traced by package trace (the reference peers
	// leave them zero, but for connect's Local: their own end, asked of the
	// kernel once connect returns, so that the demo knows which SYN each of
	// several clients connecting at once sent): the process that made the
	// call; the connection its
	// descriptor belongs to, so that a server with several clients shows
	// each call in its own stream; and how long the program waited before
	// the call in poll/select/epoll or in non-blocking retries (EAGAIN)
	// that the tracer folded into this one call. exit_group's status is in
	// Value; Call "killed" (not a call: a process killed by a signal) has the
	// signal's number in Value; sendfile's in_fd is in Value, its count in
	// Count.
	PID         int
	Local, Peer netip.AddrPort
	Blocked     time.Duration
	// Shared is, for close, how many other descriptors (in this process
	// or others, after dup or fork) still hold the socket: the close then
	// sends nothing; only the last one sends the FIN.
	Shared int
}

// Linger is struct linger, SO_LINGER's value.
type Linger struct {
	Onoff, Linger int
}

// MaxData bounds Event.Data: the bytes of a read or write kept for display.
// A display cuts them shorter still (strace's -s, 32 by default).
const MaxData = 4096

// DefaultStrSize is how many bytes of a buffer String shows before "...",
// strace's default for -s.
const DefaultStrSize = 32

// Tracer receives every Event. A nil Tracer means no tracing. It is called
// from the goroutine that made the call, so a Tracer shared by a client and a
// server running at once must be safe for concurrent use.
type Tracer func(Event)

// keep copies at most MaxData bytes of p for Event.Data.
func keep(p []byte) []byte {
	return append([]byte(nil), p[:min(len(p), MaxData)]...)
}

// String renders the event on one line as strace writes the call, after the
// caller's role:
//
//	client connect(5, {sa_family=AF_INET, sin_port=htons(7000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
//	client write(5, "hello, world\n", 13) = 13
//
// A failed call shows -1 and the errno by name and meaning, as strace does:
// "… = -1 ECONNREFUSED (Connection refused)". Buffers are cut at
// DefaultStrSize bytes.
func (e Event) String() string {
	var b []byte
	if e.Who != "" {
		b = append(append(b, e.Who...), ' ')
	}
	return string(e.AppendCall(b, DefaultStrSize))
}

// AppendCall appends the call in strace's notation, without the caller's
// role: "bind(5, {sa_family=AF_INET, …}, 16) = 0". Buffers (read, write)
// show at most strsize bytes, then "..." (strace's -s); strsize <= 0 means
// DefaultStrSize.
func (e Event) AppendCall(b []byte, strsize int) []byte {
	if strsize <= 0 {
		strsize = DefaultStrSize
	}
	if e.Call == "killed" {
		// Not a call: a traced process killed by signal Value, as strace
		// shows it.
		return append(b, "+++ killed by "+e.Signal()+" +++"...)
	}
	b = append(append(b, e.Call...), '(')
	if e.FD >= 0 {
		b = strconv.AppendInt(b, int64(e.FD), 10)
	}
	arg := func(b []byte) []byte {
		if b[len(b)-1] != '(' {
			b = append(b, ", "...)
		}
		return b
	}
	switch e.Kind() {
	case "socket":
		b = append(arg(b), e.Domain.String()...)
		b = append(append(arg(b), TypeName(e.Type)...), ", "...)
		b = append(b, ProtocolName(e.Protocol)...)
	case "bind", "connect":
		b = AppendSockaddr(arg(b), e.Addr)
		b = strconv.AppendInt(append(b, ", "...), int64(SockaddrLen(e.Addr)), 10)
	case "accept", "getsockname", "getpeername":
		if e.Addr.IsValid() {
			b = AppendSockaddr(arg(b), e.Addr)
			b = append(strconv.AppendInt(append(b, ", ["...), int64(SockaddrLen(e.Addr)), 10), ']')
		} else {
			// Nothing was written into the caller's sockaddr.
			b = append(arg(b), "0x…, [0x…]"...)
		}
	case "listen":
		b = strconv.AppendInt(arg(b), int64(e.Backlog), 10)
	case "setsockopt", "getsockopt":
		b = append(arg(b), LevelName(e.Level)...)
		b = append(append(b, ", "...), OptionName(e.Level, e.Option)...)
		b = append(b, ", "...)
		switch {
		case e.Linger != nil:
			b = append(b, "{l_onoff="...)
			b = strconv.AppendInt(b, int64(e.Linger.Onoff), 10)
			b = append(b, ", l_linger="...)
			b = strconv.AppendInt(b, int64(e.Linger.Linger), 10)
			b = append(b, "}, 8"...)
		case e.Call == "getsockopt" && e.Err != nil:
			b = append(b, "0x…, [4]"...)
		case e.Call == "getsockopt":
			b = append(strconv.AppendInt(append(b, '['), int64(e.Value), 10), "], [4]"...)
		default:
			b = append(strconv.AppendInt(append(b, '['), int64(e.Value), 10), "], 4"...)
		}
	case "read", "write":
		// recvfrom, sendto, recvmsg, sendmsg, readv and writev (traced
		// programs) are shown in read's and write's form: the bytes and
		// the count, without their flags and address arguments.
		b = arg(b)
		if e.Kind() == "read" && e.Err != nil {
			b = append(b, "0x…"...) // nothing was read into the buffer
		} else {
			data := e.Data[:min(len(e.Data), e.moved())]
			b = AppendQuoted(b, data, strsize)
			if len(data) <= strsize && len(data) < e.moved() {
				// Fewer bytes kept than moved (MaxData, or a tracer that
				// read less): say that the string goes on.
				b = append(b, "..."...)
			}
		}
		b = strconv.AppendInt(append(b, ", "...), int64(e.Count), 10)
	case "shutdown":
		b = append(arg(b), e.How.String()...)
	case "sendfile":
		// sendfile(out_fd, in_fd, offset, count): the bytes come from a
		// file, not from the program's memory. Value is in_fd.
		b = strconv.AppendInt(arg(b), int64(e.Value), 10)
		b = strconv.AppendInt(append(b, ", NULL, "...), int64(e.Count), 10)
	case "getaddrinfo":
		b = strconv.AppendQuote(b, e.Host)
	case "exit_group":
		// The process ends; the kernel closes its descriptors.
		return append(strconv.AppendInt(b, int64(e.Value), 10), ") = ?"...)
	}
	b = append(b, ") = "...)
	if e.Err != nil {
		return append(b, describeErr(e.Err)...)
	}
	if e.Call == "getaddrinfo" {
		for i, a := range e.Addrs {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = a.AppendTo(b)
		}
		return b
	}
	return strconv.AppendInt(b, int64(e.Ret), 10)
}

// Signal names the signal of a "killed" event: "SIGSEGV".
func (e Event) Signal() string {
	if name := sys.SignalName(syscall.Signal(e.Value)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(e.Value)
}

// Kind is the call's family, which decides how it is shown and where it
// goes on the timeline: "read" for read, recv, recvfrom, recvmsg and readv;
// "write" for write, send, sendto, sendmsg and writev; "accept" for
// accept4; otherwise Call itself. Traced programs make all of these; the
// reference peers only the first of each.
func (e Event) Kind() string {
	switch e.Call {
	case "recv", "recvfrom", "recvmsg", "readv":
		return "read"
	case "send", "sendto", "sendmsg", "writev":
		return "write"
	case "accept4":
		return "accept"
	}
	return e.Call
}

// moved is how many bytes a read or write moved: Ret on success; a failed
// write shows what it was asked to write.
func (e Event) moved() int {
	if e.Err != nil {
		return e.Count
	}
	return e.Ret
}

// Format renders the event on one line, or, when verbose, followed by its
// Details (indented) and, when the call blocked noticeably, how long.
func (e Event) Format(verbose bool) string {
	s := e.String()
	if !verbose {
		return s
	}
	if e.Took >= time.Millisecond {
		s += fmt.Sprintf("   [blocked %v]", e.Took.Round(time.Millisecond))
	}
	for _, d := range e.Details(HostEndian()) {
		s += "\n        " + d
	}
	return s
}

// Details gives the lines a verbose view shows under the call: for a
// sockaddr, its fields in host and network byte order (DescribeSockaddr);
// for a short write, that the rest is written by the next call.
func (e Event) Details(host Endian) []string {
	switch e.Kind() {
	case "bind", "connect", "accept", "getsockname", "getpeername":
		if e.Addr.IsValid() {
			return DescribeSockaddr(e.Addr, host)
		}
	case "write":
		if e.Err == nil && e.Ret < e.Count {
			return []string{fmt.Sprintf("short write: the kernel took %d of %d bytes; write again with the rest", e.Ret, e.Count)} // Count > Ret >= 1: always plural
		}
	}
	return nil
}

// ErrnoName is the errno's symbolic name ("ECONNREFUSED") when err is an
// errno, or "".
func ErrnoName(err error) string {
	var errno sys.Errno
	if errors.As(err, &errno) {
		return sys.ErrnoName(errno)
	}
	return ""
}

// describeErr renders a failed call's result in strace style. The cases that
// are not an errno are this package's own: a wait cut short by Close or by a
// timeout happened in poll(2) before the call itself was made.
func describeErr(err error) string {
	var errno sys.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &errno):
		name := sys.ErrnoName(errno)
		if name == "" {
			name = "errno " + strconv.Itoa(int(errno))
		}
		return "-1 " + name + " (" + strerror(errno) + ")"
	case errors.Is(err, net.ErrClosed):
		return "-1 (interrupted: the socket was closed)"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "-1 (timed out)"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "EAI_NONAME (unknown host)"
		}
		return "EAI_FAIL (" + dns.Err + ")"
	default:
		return "-1 (" + err.Error() + ")"
	}
}

// strerror is the C library's message for errno, which strace prints:
// Go's table holds the same words with a lower-case first letter.
func strerror(errno sys.Errno) string {
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}
