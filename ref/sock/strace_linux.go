package sock

import "golang.org/x/sys/unix"

// The flags a program may or into socket(2)'s type (Linux only; traced
// programs use them, see package trace).
const (
	sockCloexec  = unix.SOCK_CLOEXEC
	sockNonblock = unix.SOCK_NONBLOCK
)

// tcpOptionNames are the Linux TCP options traced programs set beyond the
// ones every system has (runtimes set keep-alive timing, for instance).
var tcpOptionNames = map[int]string{
	unix.TCP_KEEPIDLE: "TCP_KEEPIDLE", unix.TCP_CORK: "TCP_CORK", unix.TCP_QUICKACK: "TCP_QUICKACK",
	unix.TCP_USER_TIMEOUT: "TCP_USER_TIMEOUT", unix.TCP_FASTOPEN: "TCP_FASTOPEN",
	unix.TCP_CONGESTION: "TCP_CONGESTION", unix.TCP_DEFER_ACCEPT: "TCP_DEFER_ACCEPT",
}
