package demo

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// open opens a file the programs will read (--client-stdin) with their
// access rights, not the demo's: the file system uid and gid of this one
// OS thread are switched for the open (setfsuid(2) is per thread), so
// root's privileges cannot leak a file the student may not read.
func (r runAs) open(path string) (*os.File, error) {
	if r.cred == nil {
		return os.Open(path)
	}
	type res struct {
		f   *os.File
		err error
	}
	c := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		unix.Setfsgid(int(r.cred.Gid))
		unix.Setfsuid(int(r.cred.Uid))
		f, err := os.Open(path)
		// Back to root; if that failed the goroutine exits still locked
		// and Go discards the thread rather than reuse it.
		unix.Setfsuid(0)
		unix.Setfsgid(0)
		if cur, _ := unix.SetfsuidRetUid(-1); cur == 0 {
			runtime.UnlockOSThread()
		}
		c <- res{f, err}
	}()
	v := <-c
	if v.err != nil {
		return nil, fmt.Errorf("--client-stdin %s: %s cannot read it: %v", path, r.describe(), unwrapExec(v.err))
	}
	return v.f, nil
}
