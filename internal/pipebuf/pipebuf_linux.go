package pipebuf

import (
	"os"

	"golang.org/x/sys/unix"
)

// Grow asks for a pipe buffer of Size bytes when f is a pipe with Linux's
// default buffer (16 pages), and reports whether the buffer is now at least
// that large. A pipe of any other size was sized by someone (the shell or
// program that made it) or by the system (a user over their pipe quota
// gets smaller ones) and is left as it is, as is anything that is not a
// pipe (a terminal, a file, /dev/null): the output is only slower.
func Grow(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return false
	}
	fd := uintptr(f.Fd())
	n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
	if err != nil || n != defaultPages*os.Getpagesize() {
		return err == nil && n >= Size
	}
	n, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, Size)
	return err == nil && n >= Size
}

// defaultPages is the buffer, in pages, Linux gives a new pipe
// (PIPE_DEF_BUFFERS).
const defaultPages = 16
