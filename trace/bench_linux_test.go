//go:build linux && (amd64 || arm64)

package trace

import (
	"os/exec"
	"testing"
	"time"
)

// BenchmarkTracedSyscall measures what tracing costs a program per system
// call: dd copying 20000 single bytes makes 40000 read/write calls, each
// stopped twice (entry and exit). Reported as ns per system call, traced
// and not.
func BenchmarkTracedSyscall(b *testing.B) {
	dd, err := exec.LookPath("dd")
	if err != nil {
		b.Skip("no dd")
	}
	const calls = 40000
	args := []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=20000", "status=none"}
	b.ReportAllocs()
	var traced, plain time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := Start(Config{Path: dd, Argv: args})
		if err != nil {
			b.Fatal(err)
		}
		<-p.Done()
		traced += time.Since(start)
		start = time.Now()
		if err := exec.Command(dd, args[1:]...).Run(); err != nil {
			b.Fatal(err)
		}
		plain += time.Since(start)
	}
	b.ReportMetric(float64(traced.Nanoseconds())/float64(b.N)/calls, "ns/traced-syscall")
	b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N)/calls, "ns/plain-syscall")
}
