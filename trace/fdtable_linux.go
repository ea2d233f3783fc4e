//go:build linux && (amd64 || arm64)

package trace

import (
	"net/netip"
	"time"
)

// sockInfo is one socket as the kernel's open file description: dup,
// fork and SCM_RIGHTS give more descriptors for the same one, and its
// addresses are shared by all of them.
type sockInfo struct {
	family       int
	typ          int
	local, peer  netip.AddrPort
	listening    bool
	connected    bool // connect succeeded or is in progress, or accepted
	pendingIn    time.Time
	pendingOut   time.Time
	pendingInAt  int // tid whose retry started pendingIn (informational)
	pendingOutAt int
}

// fdEntry is one descriptor in a table: the socket and its close-on-exec
// flag (which belongs to the descriptor, not the socket).
type fdEntry struct {
	s       *sockInfo
	cloexec bool
}

// fdTable is a process's descriptor table, restricted to its IP sockets.
// Threads (and clone(CLONE_FILES)) share one; fork copies it.
type fdTable struct {
	refs int // processes using it
	m    map[int]fdEntry
}

func newTable() *fdTable { return &fdTable{refs: 1, m: map[int]fdEntry{}} }

func (t *fdTable) copy() *fdTable {
	c := &fdTable{refs: 1, m: make(map[int]fdEntry, len(t.m))}
	for fd, e := range t.m {
		c.m[fd] = e
	}
	return c
}

// exec drops the close-on-exec descriptors.
func (t *fdTable) exec() {
	for fd, e := range t.m {
		if e.cloexec {
			delete(t.m, fd)
		}
	}
}

func (t *fdTable) get(fd int) *sockInfo {
	if fd < 0 {
		return nil
	}
	return t.m[fd].s
}
