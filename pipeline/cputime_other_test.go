//go:build !linux

package pipeline_test

// threadCPU is 0 where the thread's CPU time is not read: the benchmarks
// then report wall-clock time only.
func threadCPU() int64 { return 0 }
