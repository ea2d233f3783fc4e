package demo

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// LastName is the file, in the cache folder, that keeps the last demo's
// capture when no -w is given.
const LastName = "last-demo.pcapng"

// Owner is whom the files the demo keeps belong to: the user who ran
// "sudo tcpscope demo", not root. Zero means the process's own user.
type Owner struct {
	UID, GID int
	set      bool
}

// CacheDir is the folder for the last session:
// $XDG_CACHE_HOME/tcpscope, or ~/.cache/tcpscope (the XDG base directory
// rules). Run through sudo (root, with SUDO_UID set), the folder is the
// invoking user's, found from SUDO_USER's home directory (sudo resets HOME
// and XDG_CACHE_HOME to root's or drops them), and what the demo creates
// there is handed to that user (owner), so "tcpscope replay" reads it
// afterwards without sudo and root's home fills with nothing.
func CacheDir(getenv func(string) string) (dir string, owner Owner, err error) {
	if os.Geteuid() == 0 && getenv("SUDO_UID") != "" && getenv("SUDO_UID") != "0" {
		uid, err1 := strconv.Atoi(getenv("SUDO_UID"))
		gid, err2 := strconv.Atoi(getenv("SUDO_GID"))
		u, err3 := user.LookupId(getenv("SUDO_UID"))
		if err1 == nil && err2 == nil && err3 == nil && filepath.IsAbs(u.HomeDir) {
			return filepath.Join(u.HomeDir, ".cache", "tcpscope"), Owner{UID: uid, GID: gid, set: true}, nil
		}
	}
	if x := getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "tcpscope"), Owner{}, nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		u, err := user.Current()
		if err != nil || !filepath.IsAbs(u.HomeDir) {
			return "", Owner{}, errors.New("no home folder (HOME is not set): give -w FILE to keep the capture")
		}
		home = u.HomeDir
	}
	return filepath.Join(home, ".cache", "tcpscope"), Owner{}, nil
}

// makeDir creates dir and its missing parents (0700), giving each one it
// creates to owner.
func makeDir(dir string, owner Owner) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if owner.set {
			if err := os.Lchown(missing[i], owner.UID, owner.GID); err != nil {
				return err
			}
		}
	}
	return nil
}

// lastFile is the last session's capture while it is written: a new file
// under a temporary name in the cache folder, renamed over LastName once
// complete, so an interrupted or failed run leaves the previous session
// whole, and a symlink planted at either name is never followed (the
// temporary name is created with O_EXCL|O_NOFOLLOW; rename(2) replaces a
// directory entry, never what a symlink there points to). Everything goes
// through a descriptor of the folder opened with O_NOFOLLOW, so the folder
// cannot be swapped for a symlink half way.
type lastFile struct {
	*os.File
	dir    *os.File
	path   string // dir/LastName, for messages
	tmp    string
	owner  Owner
	closed bool
}
