package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// On Windows (where the demo does not run, but the package builds) the
// last session is written to a new temporary file and renamed over the
// previous one.

func createLast(dir string, owner Owner) (*lastFile, error) {
	if err := makeDir(dir, owner); err != nil {
		return nil, fmt.Errorf("cache folder %s: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+LastName+".*")
	if err != nil {
		return nil, fmt.Errorf("cache folder %s: %v", dir, err)
	}
	return &lastFile{File: f, path: filepath.Join(dir, LastName), tmp: f.Name(), owner: owner}, nil
}

// Close closes the file without keeping it.
func (l *lastFile) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	return l.File.Close()
}

// commit puts the finished file in place of the previous session.
func (l *lastFile) commit() error {
	l.Close()
	if err := os.Rename(l.tmp, l.path); err != nil {
		os.Remove(l.tmp)
		return fmt.Errorf("%s: %v", l.path, err)
	}
	return nil
}

// discard removes the unfinished file; the previous session stays.
func (l *lastFile) discard() {
	l.Close()
	os.Remove(l.tmp)
}
