//go:build !linux || !(amd64 || arm64)

package trace

import (
	"errors"
	"runtime"
	"syscall"
)

// ErrUnsupported is returned by Start where tracing is not implemented.
var ErrUnsupported = errors.New("tracing a program's socket calls needs Linux on amd64 or arm64 (this is " + runtime.GOOS + "/" + runtime.GOARCH + ")")

// Start is not available on this system.
func Start(cfg Config) (*Program, error) { return nil, ErrUnsupported }

// Program is a traced program (Linux only).
type Program struct{}

// Pid is 0: nothing runs.
func (p *Program) Pid() int { return 0 }

// Done is closed at once.
func (p *Program) Done() <-chan struct{} { c := make(chan struct{}); close(c); return c }

// Exit reports nothing ran.
func (p *Program) Exit() Exit { return Exit{Err: ErrUnsupported} }

// Signal does nothing.
func (p *Program) Signal(sig syscall.Signal) error { return ErrUnsupported }

// OpenConns is 0.
func (p *Program) OpenConns() int { return 0 }
