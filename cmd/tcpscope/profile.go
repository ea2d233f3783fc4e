package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/tcpscope/tcpscope/internal/safefile"
)

// cpuProfile starts a CPU profile of the whole run into the file the
// environment variable TCPSCOPE_CPUPROFILE names, for developers: to see
// where the time goes (go tool pprof), and to make default.pgo, the
// profile go build uses to optimise the binary for the work it really does
// (scripts/pgo-profile.sh). The file is created, never overwritten or
// written through a symlink. It returns the function that ends the profile.
func cpuProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv("TCPSCOPE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := safefile.Create(path, false)
	if err != nil {
		fmt.Fprintf(stderr, "tcpscope: TCPSCOPE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "tcpscope: TCPSCOPE_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "tcpscope: TCPSCOPE_CPUPROFILE: %v\n", err)
		}
	}
}
