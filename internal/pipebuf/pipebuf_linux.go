package pipebuf

import (
	"os"

	"golang.org/x/sys/unix"
)

// Grow asks for a pipe buffer of Size bytes when f is a pipe whose buffer
// is smaller, and reports whether the buffer is now at least that large.
// Anything else (a terminal, a file, /dev/null, a pipe the system will not
// grow: a user over their pipe quota) is left as it is: the output is only
// slower.
func Grow(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return false
	}
	fd := int(f.Fd())
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && n >= Size {
		return true
	}
	n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, Size)
	return err == nil && n >= Size
}
