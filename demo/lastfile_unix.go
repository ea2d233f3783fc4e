//go:build unix

package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// createLast opens a new last-session file in dir (created if missing).
// Written by hand with openat/renameat: os.Root follows symlinks inside its
// root and has no O_EXCL-then-rename-over of its own.
func createLast(dir string, owner Owner) (*lastFile, error) {
	if err := makeDir(dir, owner); err != nil {
		return nil, fmt.Errorf("cache folder %s: %v", dir, err)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("cache folder %s: not a folder (a symlink?): not written to", dir)
		}
		return nil, fmt.Errorf("cache folder %s: %v", dir, err)
	}
	d := os.NewFile(uintptr(dfd), dir)
	for i := 0; ; i++ {
		tmp := fmt.Sprintf(".%s.%d-%d", LastName, os.Getpid(), time.Now().UnixNano()%1e9+int64(i))
		fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && i < 10 {
			continue
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("cache folder %s: %v", dir, err)
		}
		f := os.NewFile(uintptr(fd), filepath.Join(dir, tmp))
		if owner.set {
			if err := f.Chown(owner.UID, owner.GID); err != nil {
				f.Close()
				unix.Unlinkat(dfd, tmp, 0)
				d.Close()
				return nil, err
			}
		}
		return &lastFile{File: f, dir: d, path: filepath.Join(dir, LastName), tmp: tmp, owner: owner}, nil
	}
}

// Close closes the file without keeping it (the Writer closes it after the
// last frame; commit or discard decides its fate).
func (l *lastFile) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	return l.File.Close()
}

// commit puts the finished file in place of the previous session.
func (l *lastFile) commit() error {
	defer l.dir.Close()
	l.Close()
	if err := unix.Renameat(int(l.dir.Fd()), l.tmp, int(l.dir.Fd()), LastName); err != nil {
		unix.Unlinkat(int(l.dir.Fd()), l.tmp, 0)
		return fmt.Errorf("%s: %v", l.path, err)
	}
	return nil
}

// discard removes the unfinished file; the previous session stays.
func (l *lastFile) discard() {
	defer l.dir.Close()
	l.Close()
	unix.Unlinkat(int(l.dir.Fd()), l.tmp, 0)
}
