package sock

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Event is one socket call as the class should see it: who made it, the call
// with its arguments, and what it returned. It is built after the call has
// returned, so Time is the moment of return and Took is how long the program
// waited inside the call (the interesting number when a call blocks).
type Event struct {
	Time time.Time     // when the call returned
	Took time.Duration // how long the call blocked, poll waits included
	Who  string        // "client" or "server" (from Caller.Who)
	Call string        // "socket", "connect", "read", … or "getaddrinfo"

	FD     int    // descriptor the call was made on; -1 when there is none (socket, getaddrinfo)
	Args   string // arguments after the descriptor, rendered: "127.0.0.1:7000", "12 bytes", "SHUT_WR"
	Result string // return value on success, rendered: "0", "6 from 127.0.0.1:51234", "0 (EOF)"
	Err    error  // nil on success; usually a unix.Errno

	N    int            // bytes moved by read or write; new descriptor for socket and accept
	Addr netip.AddrPort // address the call was about: bound, connected, accepted or looked up

	// Detail holds extra lines for a verbose rendering: the byte order of the
	// sockaddr for bind and connect, the first bytes for read and write.
	Detail []string
}

// Tracer receives every Event. A nil Tracer means no tracing. It is called
// from the goroutine that made the call, so a Tracer shared by a client and a
// server running at once must be safe for concurrent use.
type Tracer func(Event)

// String renders the event on one line, the way it is written on the board:
// "client connect(5, 127.0.0.1:7000) = 0". A failed call shows -1 and the
// errno by name and meaning, as strace does:
// "client connect(5, 127.0.0.1:7000) = -1 ECONNREFUSED (connection refused)".
func (e Event) String() string {
	var b strings.Builder
	if e.Who != "" {
		b.WriteString(e.Who)
		b.WriteByte(' ')
	}
	b.WriteString(e.Call)
	b.WriteByte('(')
	if e.FD >= 0 {
		b.WriteString(strconv.Itoa(e.FD))
		if e.Args != "" {
			b.WriteString(", ")
		}
	}
	b.WriteString(e.Args)
	b.WriteString(") = ")
	if e.Err != nil {
		b.WriteString(describeErr(e.Err))
	} else {
		b.WriteString(e.Result)
	}
	return b.String()
}

// Format renders the event on one line, or, when verbose, followed by its
// Detail lines (indented) and, when the call blocked noticeably, how long.
func (e Event) Format(verbose bool) string {
	s := e.String()
	if !verbose {
		return s
	}
	if e.Took >= time.Millisecond {
		s += fmt.Sprintf("   [blocked %v]", e.Took.Round(time.Millisecond))
	}
	for _, d := range e.Detail {
		s += "\n        " + d
	}
	return s
}

// describeErr renders a failed call's result in strace style. The cases that
// are not an errno are this package's own: a wait cut short by Close or by a
// timeout happened in poll(2) before the call itself was made.
func describeErr(err error) string {
	var errno unix.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &errno):
		name := unix.ErrnoName(errno)
		if name == "" {
			name = "errno " + strconv.Itoa(int(errno))
		}
		return "-1 " + name + " (" + errno.Error() + ")"
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

// preview renders the first bytes of a read or write for the verbose view,
// quoted like a C string so that "\r\n" and binary data stay visible.
func preview(p []byte) string {
	const max = 40
	if len(p) <= max {
		return "data: " + strconv.Quote(string(p))
	}
	return "data: " + strconv.Quote(string(p[:max])) + fmt.Sprintf(" … (%d more bytes)", len(p)-max)
}
