//go:build !linux

package demo

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
)

// EnvInside marks a process that already runs in the demo's private network
// namespace.
const EnvInside = "TCPSCOPE_DEMO_NETNS"

// Inside reports whether this process is the demo's namespaced child. Only
// Linux has network namespaces; elsewhere the demo runs on the host's
// loopback and needs capture privileges.
func Inside() bool { return os.Getenv(EnvInside) == "1" }

// Namespaces reports whether this system has network namespaces: only
// Linux has them, so here the demo runs on the host's loopback.
func Namespaces() bool { return false }

var errNoNetns = errors.New("demo: network namespaces exist only on Linux (" + runtime.GOOS + "); run the demo with sudo")

// NamespacedCommand fails: no network namespaces on this OS.
func NamespacedCommand(args []string) (*exec.Cmd, error) { return nil, errNoNetns }

// PrivilegeHint is the one-line advice printed when capture is not allowed.
const PrivilegeHint = "the demo captures packets, which needs root: run it with sudo"

// SetupLoopback does nothing where the demo runs on the host's loopback.
func SetupLoopback(mtu int, oneSegment bool) error { return nil }

// DropRandomly needs Linux's nftables in a private namespace.
func DropRandomly(port uint16, pct int) error {
	if pct <= 0 {
		return nil
	}
	return errors.New("demo --loss needs Linux (nftables in a network namespace)")
}
