//go:build unix

package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	createFlags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	filePerm    = 0o644
	// dirPerm: follow --out writes a capture's payloads, which may hold
	// passwords or cookies; a directory tcpscope creates (often as root)
	// is readable by its owner only.
	dirPerm = 0o700
)

// Create creates path for writing as the package comment says: a new
// file, or with force a replacement for an existing regular file, or the
// special file (device, FIFO) already there.
func Create(path string, force bool) (*os.File, error) {
	return create(unix.AT_FDCWD, path, path, force)
}

// Dir is a directory opened once, in which files are created relative to
// its descriptor.
type Dir struct {
	f    *os.File
	path string
}

// OpenDir opens directory path for Create, making it (0700, and missing
// parents 0755 as MkdirAll does) when it does not exist. path may be a
// symlink to a directory only when the user running tcpscope owns the
// link: a link planted by someone else in a shared directory would
// otherwise decide where root's files go.
func OpenDir(path string) (*Dir, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
		}
		if err := os.Mkdir(path, dirPerm); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
		}
		fi, err = os.Lstat(path)
	}
	if err != nil {
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if fi.Mode()&os.ModeSymlink != 0 {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) != os.Geteuid() {
			uid := -1
			if ok {
				uid = int(st.Uid)
			}
			return nil, &Error{Path: path, Msg: fmt.Sprintf("is a symlink owned by uid %d, not by you (uid %d); refusing to follow it", uid, os.Geteuid()), Err: ErrSymlink}
		}
	} else {
		// Not a symlink at the check: it must not become one.
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openat(unix.AT_FDCWD, path, flags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &Error{Path: path, Msg: "became a symlink while being opened; refusing to follow it", Err: ErrSymlink}
		}
		if errors.Is(err, unix.ENOTDIR) {
			return nil, &Error{Path: path, Msg: "is not a directory", Err: err}
		}
		return nil, &Error{Path: path, Msg: err.Error(), Err: err}
	}
	return &Dir{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

// Create creates name (a plain file name, no slash) inside d, with the
// same rules as the package-level Create.
func (d *Dir) Create(name string, force bool) (*os.File, error) {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return nil, &Error{Path: filepath.Join(d.path, name), Msg: "not a plain file name"}
	}
	return create(int(d.f.Fd()), name, filepath.Join(d.path, name), force)
}

// Path is the directory's path as given to OpenDir.
func (d *Dir) Path() string { return d.path }

// Close closes the directory's descriptor.
func (d *Dir) Close() error { return d.f.Close() }

// create opens name relative to dirfd; shown is the path errors name.
func create(dirfd int, name, shown string, force bool) (*os.File, error) {
	fd, err := openat(dirfd, name, createFlags, filePerm)
	if err == nil {
		return os.NewFile(uintptr(fd), shown), nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return nil, &Error{Path: shown, Msg: err.Error(), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &Error{Path: shown, Msg: err.Error(), Err: err}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil, &Error{Path: shown, Msg: "is a symlink; refusing to write through it (name its target instead)", Err: ErrSymlink}
	case unix.S_IFDIR:
		return nil, &Error{Path: shown, Msg: "is a directory", Err: unix.EISDIR}
	case unix.S_IFREG:
		if !force {
			return nil, &Error{Path: shown, Msg: "exists (use --force to overwrite)", Err: ErrExists}
		}
		return replace(dirfd, name, shown)
	}
	return openSpecial(dirfd, name, shown)
}

// openSpecial opens an existing device or FIFO for writing, without
// truncating it, and checks that what was opened is still not a regular
// file (the name may have been swapped since the stat).
func openSpecial(dirfd int, name, shown string) (*os.File, error) {
	const flags = unix.O_WRONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY
	// A FIFO with no reader would block the open: try without blocking
	// first, and only wait for a reader (as a shell's "> fifo" does) when
	// there is none yet.
	fd, err := openat(dirfd, name, flags|unix.O_NONBLOCK, 0)
	if err == nil {
		if err := unix.SetNonblock(fd, false); err != nil {
			unix.Close(fd)
			return nil, &Error{Path: shown, Msg: err.Error(), Err: err}
		}
	} else if errors.Is(err, unix.ENXIO) {
		fd, err = openat(dirfd, name, flags, 0)
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &Error{Path: shown, Msg: "is a symlink; refusing to write through it (name its target instead)", Err: ErrSymlink}
		}
		return nil, &Error{Path: shown, Msg: err.Error(), Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &Error{Path: shown, Msg: err.Error(), Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFREG || st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		return nil, &Error{Path: shown, Msg: "exists (use --force to overwrite)", Err: ErrExists}
	}
	return os.NewFile(uintptr(fd), shown), nil
}

// replace creates a new file beside name under a temporary name and
// renames it over name. rename(2) replaces the entry: a symlink or hard
// link swapped in meanwhile is replaced, never written through.
func replace(dirfd int, name, shown string) (*os.File, error) {
	dir, base := filepath.Split(name)
	var rnd [6]byte
	var fd int
	var tmp string
	var err error
	for i := 0; i < 5; i++ {
		rand.Read(rnd[:])
		tmp = dir + "." + base + ".tcpscope-" + hex.EncodeToString(rnd[:])
		fd, err = openat(dirfd, tmp, createFlags, filePerm)
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	if err != nil {
		return nil, &Error{Path: shown, Msg: "cannot create a replacement beside it: " + err.Error(), Err: err}
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		unix.Close(fd)
		return nil, &Error{Path: shown, Msg: "cannot replace it: " + err.Error(), Err: err}
	}
	return os.NewFile(uintptr(fd), shown), nil
}

// openat retries on EINTR (a signal arriving during the open).
func openat(dirfd int, name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// unwrap drops *PathError's "op path:" prefix, which Error adds itself.
func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
