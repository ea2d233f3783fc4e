package sysabi

import "syscall"

// On Windows no socket call is made by tcpscope's peers or traced; the
// renderer builds with Linux's numbers, which is what a trace would hold.

// Errno is the system's error number.
type Errno = syscall.Errno

var errnoNames = map[Errno]string{111: "ECONNREFUSED", 104: "ECONNRESET", 110: "ETIMEDOUT", 11: "EAGAIN", 32: "EPIPE", 98: "EADDRINUSE", 113: "EHOSTUNREACH"}

// ErrnoName is the errno's symbolic name, for the few a TCP lesson meets.
func ErrnoName(e Errno) string { return errnoNames[e] }

// SignalName is the signal's symbolic name.
func SignalName(s syscall.Signal) string {
	switch s {
	case 9:
		return "SIGKILL"
	case 11:
		return "SIGSEGV"
	case 15:
		return "SIGTERM"
	}
	return ""
}

// Linux's values.
const (
	ECONNREFUSED        = syscall.Errno(111)
	IPPROTO_IP          = 0
	IPPROTO_IPV6        = 41
	IPPROTO_TCP         = 6
	IPV6_V6ONLY         = 26
	SOCK_DGRAM          = 2
	SOCK_STREAM         = 1
	SOL_SOCKET          = 1
	SO_BROADCAST        = 6
	SO_ERROR            = 4
	SO_KEEPALIVE        = 9
	SO_LINGER           = 13
	SO_RCVBUF           = 8
	SO_RCVTIMEO         = 20
	SO_REUSEADDR        = 2
	SO_REUSEPORT        = 15
	SO_SNDBUF           = 7
	SO_SNDTIMEO         = 21
	SO_TYPE             = 3
	SizeofSockaddrInet4 = 16
	SizeofSockaddrInet6 = 28
	TCP_KEEPCNT         = 6
	TCP_KEEPINTVL       = 5
	TCP_MAXSEG          = 2
	TCP_NODELAY         = 1
	AF_INET             = 2
	AF_INET6            = 10
	SHUT_RD             = 0
	SHUT_WR             = 1
	SHUT_RDWR           = 2
)
