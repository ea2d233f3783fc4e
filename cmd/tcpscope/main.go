// Command tcpscope inspects TCP sessions: it decodes saved or live captures
// segment by segment, explains what TCP is doing in each one, and runs a
// lecture demo of a real client and server on loopback.
//
// main is kept tiny: everything happens in run, which returns the exit code,
// so tests can drive the whole command line in-process.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
