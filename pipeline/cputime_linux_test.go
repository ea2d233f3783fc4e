package pipeline_test

import "syscall"

// threadCPU is the calling thread's CPU time (user + system) in
// nanoseconds: on a machine shared with other work, time that a
// benchmark's thread actually ran, not time it waited for a core.
func threadCPU() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
