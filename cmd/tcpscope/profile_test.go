package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileEnv: TCPSCOPE_CPUPROFILE=F writes a CPU profile of the run
// to F (gzipped protobuf, as go tool pprof and go build -pgo read it); an
// existing F or a symlink there is refused with one line, and the command
// still runs and leaves the file as it was.
func TestCPUProfileEnv(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.prof")
	run := func(path string) (string, error) {
		cmd := exec.Command(bin, "stats", "../../pcaps/lo-bulk-loss.pcap")
		cmd.Env = append(os.Environ(), "TCPSCOPE_CPUPROFILE="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		return stderr.String(), err
	}
	if stderr, err := run(prof); err != nil || stderr != "" {
		t.Fatalf("stats: %v, stderr %q", err, stderr)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the profile: %d bytes, %v; want a gzipped protobuf", len(b), err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.prof")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{victim, link} {
		stderr, err := run(path)
		if err != nil || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "tcpscope: TCPSCOPE_CPUPROFILE: ") {
			t.Errorf("%s: %v, stderr %q; want the run, and one line saying why there is no profile", path, err, stderr)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the existing file now holds %q", b)
	}
}
