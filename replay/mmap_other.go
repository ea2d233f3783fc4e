//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package replay

import (
	"io"
	"os"
)

// mapping is not used on this system (see mmap_unix.go): files are read
// with read(2) through a buffer. mapFile never returns one, so the methods
// below are never called; they exist so the readers compile unchanged.
type mapping struct {
	pos      int64
	populate bool
}

func mapFile(*os.File, int64) *mapping { return nil }

func (m *mapping) Peek(int) ([]byte, error)          { return nil, io.EOF }
func (m *mapping) Discard(int) (int, error)          { return 0, io.EOF }
func (m *mapping) Size() int                         { return 0 }
func (m *mapping) Read([]byte) (int, error)          { return 0, io.EOF }
func (m *mapping) at(int64, int) ([]byte, bool)      { return nil, false }
func (m *mapping) rest() []byte                      { return nil }
func (m *mapping) Close() error                      { return nil }
func (m *mapping) twin() *mapping                    { return nil }
func (m *mapping) region(int64, int) ([]byte, error) { return nil, io.EOF }
