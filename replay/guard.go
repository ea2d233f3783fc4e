package replay

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// errShrank is wrapped by the error a fault on mapped memory becomes.
var errShrank = errors.New("the file shrank while being read")

// guard, deferred by every function that reads mapped memory, restores the
// goroutine's fault setting (old, from debug.SetPanicOnFault(true)) and
// turns a fault into *err: the file was truncated under the mapping (a
// SIGBUS) or is otherwise unreadable. Any other panic goes on.
func guard(old bool, at int64, err *error) {
	debug.SetPanicOnFault(old)
	faultErr(recover(), at, err)
}

// faultErr turns r, what recover returned, into *err when it is a memory
// fault, and panics again with anything else.
func faultErr(r any, at int64, err *error) {
	if r == nil {
		return
	}
	if isFault(r) {
		*err = fmt.Errorf("%w (reading near byte %d)", errShrank, at)
		return
	}
	panic(r)
}

// isFault reports whether r, what recover returned, is a memory fault (the
// runtime's error for one, under debug.SetPanicOnFault, has the address).
func isFault(r any) bool {
	_, ok := r.(interface{ Addr() uintptr })
	return ok
}
