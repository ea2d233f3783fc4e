package safefile

import (
	"errors"
	"os"
	"path/filepath"
)

// On Windows the same rules with the calls Windows has: O_EXCL creation,
// a symlink or junction (a reparse point) refused, an existing file only
// with force, replaced by a new file renamed over it. There is no openat,
// so a Dir's files are created by path after checking that the directory
// itself is not a link.

const filePerm = 0o644

// Create creates path for writing; see the package comment.
func Create(path string, force bool) (*os.File, error) {
	return create(path, force)
}

func create(path string, force bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	fi, lerr := os.Lstat(path)
	switch {
	case lerr != nil:
		return nil, &Error{Path: path, Msg: unwrap(lerr).Error(), Err: lerr}
	case fi.Mode()&(os.ModeSymlink|os.ModeIrregular) != 0:
		return nil, &Error{Path: path, Msg: "is a symlink; refusing to write through it (give the target's path)", Err: ErrSymlink}
	case !fi.Mode().IsRegular():
		// NUL and other devices: opened as they are, never truncated.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
		}
		return f, nil
	case !force:
		return nil, &Error{Path: path, Msg: "exists (use --force to overwrite)", Err: ErrExists}
	}
	tmp := path + ".tcpscope-new"
	f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	return f, nil
}

// Dir is a directory in which files are created.
type Dir struct{ path string }

// OpenDir makes directory path when missing and refuses a link.
func OpenDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, &Error{Path: path, Msg: unwrap(err).Error(), Err: err}
	}
	if fi.Mode()&(os.ModeSymlink|os.ModeIrregular) != 0 {
		return nil, &Error{Path: path, Msg: "is a symlink or junction; refusing to follow it", Err: ErrSymlink}
	}
	if !fi.IsDir() {
		return nil, &Error{Path: path, Msg: "is not a directory"}
	}
	return &Dir{path: path}, nil
}

// Create creates name (a plain file name) inside d.
func (d *Dir) Create(name string, force bool) (*os.File, error) {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return nil, &Error{Path: filepath.Join(d.path, name), Msg: "not a plain file name"}
	}
	return create(filepath.Join(d.path, name), force)
}

// Path is the directory's path as given to OpenDir.
func (d *Dir) Path() string { return d.path }

// Close does nothing: no descriptor is held.
func (d *Dir) Close() error { return nil }

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
