//go:build !linux

package main

import (
	"os"
	"testing"
)

// pinPipe does nothing where tcpscope does not grow pipes (pipebuf.Grow).
func pinPipe(t *testing.T, w *os.File) {}
