package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// TestDemoHostLoopback runs the demo the way it runs where there are no
// network namespaces (macOS, FreeBSD): on this machine's own loopback, the
// capture filtered to the server's port. The session is whole (handshake,
// data, both FINs, the calls among them), and --loss, which would need
// nftables rules on the host's own loopback, is refused.
func TestDemoHostLoopback(t *testing.T) {
	testroot.Need(t)
	out, errs, err := runBin(t, "demo", "--host-loopback", "--json", "-w", filepath.Join(t.TempDir(), "d.pcapng"))
	if err != nil {
		t.Fatalf("demo --host-loopback: %v\n%s", err, errs)
	}
	if !strings.Contains(errs, "own loopback") {
		t.Errorf("stderr does not say where the demo runs: %s", errs)
	}
	var syn, fin, calls int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if _, ok := m["call"]; ok {
			calls++
			continue
		}
		flags, _ := m["flags"].([]any)
		for _, f := range flags {
			switch f {
			case "SYN":
				syn++
			case "FIN":
				fin++
			}
		}
	}
	if syn != 2 || fin != 2 || calls < 10 {
		t.Errorf("%d SYN segments, %d FIN segments, %d calls; want 2, 2, ≥ 10:\n%s", syn, fin, calls, out)
	}
	_, errs, err = runBin(t, "demo", "--host-loopback", "--loss", "5")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage || !strings.Contains(errs, "--loss needs") {
		t.Errorf("--host-loopback --loss: %v, %s", err, errs)
	}
}
