//go:build linux && cgo

package capture

import (
	"time"

	"golang.org/x/sys/unix"
)

// linkState watches whether an interface is administratively up
// (IFF_UP), with the SIOCGIFFLAGS ioctl on a socket kept open for it.
// Only an interface that was up when the capture started is watched.
type linkState struct {
	fd    int
	iface string
	next  time.Time // do not ask again before this time
}

// watchLink returns a watcher for iface, or nil when its flags cannot be
// read (a pseudo-device such as "any") or it is not up now.
func watchLink(iface string) *linkState {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	l := &linkState{fd: fd, iface: iface}
	if up, ok := l.up(); !ok || !up {
		unix.Close(fd)
		return nil
	}
	return l
}

func (l *linkState) up() (up, ok bool) {
	ifr, err := unix.NewIfreq(l.iface)
	if err != nil {
		return false, false
	}
	if err := unix.IoctlIfreq(l.fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return false, false
	}
	return ifr.Uint16()&unix.IFF_UP != 0, true
}

// wentDown reports whether the interface is now down, asking the kernel at
// most every 100 ms. A failed query (the interface was deleted) is left to
// libpcap, which reports that itself.
func (l *linkState) wentDown() bool {
	if l == nil {
		return false
	}
	now := time.Now()
	if now.Before(l.next) {
		return false
	}
	l.next = now.Add(100 * time.Millisecond)
	up, ok := l.up()
	return ok && !up
}

func (l *linkState) close() {
	if l != nil {
		unix.Close(l.fd)
	}
}
