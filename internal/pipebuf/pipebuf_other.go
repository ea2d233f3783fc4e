//go:build !linux

package pipebuf

import "os"

// Grow does nothing where a pipe's buffer cannot be sized (only Linux has
// F_SETPIPE_SZ); it reports false.
func Grow(f *os.File) bool { return false }
