package demo

import (
	"fmt"
	"github.com/tcpscope/tcpscope/trace"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"
)

// runAs is who the student's programs run as. The demo itself keeps its
// privileges only for the capture and the namespace set-up; the programs
// never get more than the student has.
type runAs struct {
	cred *trace.Credential // nil: as this process
	uid  int               // as seen from outside any user namespace
	note string            // said once on stderr, "" for nothing
}

// NobodyID is the unprivileged user and group root's programs run as.
const NobodyID = 65534

// programCredential decides who runs the programs:
//   - started through sudo: the invoking user (SUDO_UID, SUDO_GID),
//     supplementary groups dropped; setuid away from 0 clears every
//     capability;
//   - started by root directly: nobody (65534), unless asRoot;
//   - inside the demo's unprivileged user namespace: as this process, uid 0
//     inside, which is the invoking user outside (the note says so);
//   - an ordinary user (with capabilities on the binary): that user.
func programCredential(asRoot bool) runAs {
	if os.Geteuid() != 0 {
		return runAs{uid: os.Geteuid()}
	}
	if outer, ok := mappedRoot(); ok {
		return runAs{uid: outer, note: fmt.Sprintf("the programs run as uid 0 inside the demo's user namespace; that is your own user (uid %d) outside it, with no privilege you do not have", outer)}
	}
	if asRoot {
		return runAs{uid: 0, note: "--as-root: the programs tcpscope starts run as root"}
	}
	if u, g, ok := sudoUser(); ok {
		return runAs{cred: &trace.Credential{Uid: uint32(u), Gid: uint32(g), Groups: []uint32{}}, uid: u}
	}
	return runAs{cred: &trace.Credential{Uid: NobodyID, Gid: NobodyID, Groups: []uint32{}}, uid: NobodyID,
		note: "running as root: the programs tcpscope starts run as user nobody (uid 65534); give --as-root to run them as root"}
}

// sudoUser is the user who ran sudo, if any (and not root).
func sudoUser() (uid, gid int, ok bool) {
	u, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	g, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil || u == 0 {
		return 0, 0, false
	}
	return u, g, true
}

// mappedRoot reports whether uid 0 here is another user outside: a user
// namespace whose uid_map maps 0 to that user (the demo's unprivileged
// path). The initial namespace maps 0 to 0 over the whole range.
func mappedRoot() (outer int, ok bool) {
	if runtime.GOOS != "linux" {
		return 0, false
	}
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "0" {
			h, err := strconv.Atoi(f[1])
			if err == nil && h != 0 {
				return h, true
			}
		}
	}
	return 0, false
}

// describe names the user for messages: "user alice (uid 1000)".
func (r runAs) describe() string {
	if u, err := user.LookupId(strconv.Itoa(r.uid)); err == nil {
		return fmt.Sprintf("user %s (uid %d)", u.Username, r.uid)
	}
	return fmt.Sprintf("uid %d", r.uid)
}

// ProgramUser is programCredential for other commands (capture --run
// --trace): the credential to start a program with (nil: as this process)
// and a note to print, or "".
func ProgramUser(asRoot bool) (*trace.Credential, string) {
	r := programCredential(asRoot)
	return r.cred, r.note
}
