package demo

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvInside marks a process that already runs in the demo's private network
// namespace, so it does not re-exec itself again.
const EnvInside = "TCPSCOPE_DEMO_NETNS"

// Namespaces reports whether this system has network namespaces for the
// demo (Linux does); elsewhere it runs on the host's loopback.
func Namespaces() bool { return true }

// Inside reports whether this process is the demo's namespaced child.
func Inside() bool { return os.Getenv(EnvInside) == "1" }

// NamespacedCommand returns a command that runs this same binary with args
// in a new network namespace, where it owns a fresh loopback interface: no
// other traffic is captured, and nftables rules for --loss stay private and
// vanish with the namespace. As root only the network namespace is new;
// otherwise a user namespace is created too, mapping the caller to root in
// it, so capture and nftables work without sudo where the kernel allows
// unprivileged user namespaces.
func NamespacedCommand(args []string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("demo: cannot find own executable: %v", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), EnvInside+"=1")
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	return cmd, nil
}

// PrivilegeHint is the one-line advice printed when no namespace can be made.
const PrivilegeHint = "the demo captures packets, which needs root or CAP_NET_RAW, and this system does not allow an unprivileged user+network namespace either: run it with sudo, or grant the binary the capabilities once: sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tcpscope)"

// SetupLoopback brings the namespace's loopback interface up (a new network
// namespace starts with lo down) and sets its MTU; mtu 0 keeps the default.
// With oneSegment, loopback gets one TCP segment per packet (no GSO
// batching), so the capture shows each segment as TCP made it.
func SetupLoopback(mtu int, oneSegment bool) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("demo: socket for ioctl: %v", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if mtu > 0 {
		ifr.SetUint32(uint32(mtu))
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr); err != nil {
			return fmt.Errorf("demo: set lo mtu %d: %v", mtu, err)
		}
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("demo: read lo flags: %v", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("demo: bring lo up: %v", err)
	}
	if oneSegment {
		// Loopback would batch segments into 64 KiB GSO packets (also
		// below a small MTU or TCP_MAXSEG): the capture would see one
		// large packet where the wire of a real link carries many. One
		// segment per packet makes every loss, retransmission and MSS
		// visible. Needs iproute2.
		ip, err := exec.LookPath("ip")
		if err != nil {
			return fmt.Errorf("demo: one segment per packet on lo needs iproute2's ip command (apt-get install iproute2)")
		}
		if out, err := exec.Command(ip, "link", "set", "dev", "lo", "gso_max_segs", "1").CombinedOutput(); err != nil {
			return fmt.Errorf("demo: ip link set dev lo gso_max_segs 1: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// DropRandomly installs nftables rules in this namespace that drop pct % of
// the TCP packets to or from port, at random, on input: the capture sees
// each packet once as it is sent, the receiver never gets it, and TCP has to
// retransmit.
func DropRandomly(port uint16, pct int) error {
	if pct <= 0 {
		return nil
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return fmt.Errorf("demo --loss needs nftables' nft command (apt-get install nftables)")
	}
	p := strconv.Itoa(int(port))
	rules := strings.Join([]string{
		"table inet tcpscope_demo {",
		"  chain in {",
		"    type filter hook input priority 0; policy accept;",
		"    tcp dport " + p + " numgen random mod 100 < " + strconv.Itoa(pct) + " drop",
		"    tcp sport " + p + " numgen random mod 100 < " + strconv.Itoa(pct) + " drop",
		"  }",
		"}",
	}, "\n")
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("demo --loss: nft: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
