// Package safefile creates the files tcpscope writes (capture -w, demo -w,
// graph -o, follow --out) without ever writing through a symlink or over
// a file the user did not ask to replace.
//
// tcpscope often runs as root (capturing needs it) and writes to names an
// attacker can predict (follow --out names files after the flow's
// addresses). A plain os.Create follows a symlink planted at that name and
// truncates whatever it points to, /etc/shadow included. So:
//
//   - A new file is created with O_CREAT|O_EXCL|O_NOFOLLOW: it cannot exist
//     beforehand, whatever it is.
//   - An existing regular file is refused ("exists (use --force to
//     overwrite)") unless force is given. With force it is replaced, not
//     truncated: a new file is created beside it under a temporary name
//     and renamed over it. Truncating in place would also cut every other
//     hard link to that inode (a link planted in /tmp to a file of
//     another user), and rename(2) replaces the directory entry itself,
//     never what a symlink points to, so a swap between the check and
//     the rename cannot redirect the write. The replacement gets the new
//     file's owner and permissions (0644 less the umask), not the old
//     one's.
//   - A symlink is refused even with force: --force says "replace my
//     file", and a symlink's target is not known to be the user's. Giving
//     the target's path instead is one word away.
//   - Other special files (character devices such as /dev/null, FIFOs,
//     sockets cannot be opened) are opened for writing as they are, never
//     truncated: "-w /dev/null" keeps working.
//
// A Dir (follow --out DIR) is created when missing and opened once; the
// files in it are created relative to its descriptor with openat, so
// swapping DIR or a component of its path for a symlink after the check
// cannot send the writes elsewhere.
//
// Written by hand because no library in the dependency list does this:
// os.Root (Go 1.24) confines names beneath a directory but follows
// symlinks that stay inside it, truncates with O_TRUNC, and has no notion
// of "refuse an existing file unless forced".
package safefile

import (
	"errors"
	"os"
)

// Error is a refusal or failure naming the file: Error() is one line
// ("out/x: exists (use --force to overwrite)").
type Error struct {
	Path string
	Msg  string
	Err  error // the underlying error, if any
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ErrExists is matched (errors.Is) by the refusal of an existing file.
var ErrExists = os.ErrExist

// ErrSymlink is matched (errors.Is) by the refusal of a symlink.
var ErrSymlink = errors.New("is a symlink")
