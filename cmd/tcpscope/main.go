// Command tcpscope inspects TCP sessions: it decodes saved or live captures
// segment by segment, explains what TCP is doing in each one, and runs a
// lecture demo of a real client and server on loopback.
//
// main is kept tiny: everything happens in run, which returns the exit code,
// so tests can drive the whole command line in-process.
package main

import (
	"os"
	"runtime/debug"

	"github.com/tcpscope/tcpscope/internal/pipebuf"
)

// heapSoftLimit is the Go heap size from which the garbage collector works
// harder (debug.SetMemoryLimit). By default the heap may grow to twice what
// is live; a replay of a million packets keeps ~25 MB of connection state,
// and tcpscope should stay under 64 MB resident whatever the capture, so
// the collector is told to hold the heap near this instead. It is a soft
// limit: with more live state the program still runs, only with more GC.
// GOMEMLIMIT in the environment overrides it.
const heapSoftLimit = 40 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(heapSoftLimit)
	}
	pipebuf.Grow(os.Stdout) // "| less", "| jq": see internal/pipebuf
	stop := cpuProfile(os.Stderr)
	code := run(os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
