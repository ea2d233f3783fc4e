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
	if r := recover(); r != nil {
		if _, ok := r.(interface{ Addr() uintptr }); ok {
			*err = fmt.Errorf("%w (reading near byte %d)", errShrank, at)
			return
		}
		panic(r)
	}
}
