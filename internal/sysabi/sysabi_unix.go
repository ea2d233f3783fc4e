//go:build unix

// Package sysabi names the socket constants, errno and signal names the
// call renderer needs: x/sys/unix's on Unix systems, where the reference
// peers and the tracer make the calls; Linux's values elsewhere (Windows),
// where no call is made but the renderer must still build.
package sysabi

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Errno is the system's error number.
type Errno = syscall.Errno

// ErrnoName is the errno's symbolic name ("ECONNREFUSED").
func ErrnoName(e Errno) string { return unix.ErrnoName(e) }

// SignalName is the signal's symbolic name ("SIGSEGV").
func SignalName(s syscall.Signal) string { return unix.SignalName(s) }

const (
	ECONNREFUSED        = unix.ECONNREFUSED
	IPPROTO_IP          = unix.IPPROTO_IP
	IPPROTO_IPV6        = unix.IPPROTO_IPV6
	IPPROTO_TCP         = unix.IPPROTO_TCP
	IPV6_V6ONLY         = unix.IPV6_V6ONLY
	SOCK_DGRAM          = unix.SOCK_DGRAM
	SOCK_STREAM         = unix.SOCK_STREAM
	SOL_SOCKET          = unix.SOL_SOCKET
	SO_BROADCAST        = unix.SO_BROADCAST
	SO_ERROR            = unix.SO_ERROR
	SO_KEEPALIVE        = unix.SO_KEEPALIVE
	SO_LINGER           = unix.SO_LINGER
	SO_RCVBUF           = unix.SO_RCVBUF
	SO_RCVTIMEO         = unix.SO_RCVTIMEO
	SO_REUSEADDR        = unix.SO_REUSEADDR
	SO_REUSEPORT        = unix.SO_REUSEPORT
	SO_SNDBUF           = unix.SO_SNDBUF
	SO_SNDTIMEO         = unix.SO_SNDTIMEO
	SO_TYPE             = unix.SO_TYPE
	SizeofSockaddrInet4 = unix.SizeofSockaddrInet4
	SizeofSockaddrInet6 = unix.SizeofSockaddrInet6
	TCP_KEEPCNT         = unix.TCP_KEEPCNT
	TCP_KEEPINTVL       = unix.TCP_KEEPINTVL
	TCP_MAXSEG          = unix.TCP_MAXSEG
	TCP_NODELAY         = unix.TCP_NODELAY
	AF_INET             = unix.AF_INET
	AF_INET6            = unix.AF_INET6
	SHUT_RD             = unix.SHUT_RD
	SHUT_WR             = unix.SHUT_WR
	SHUT_RDWR           = unix.SHUT_RDWR
)
