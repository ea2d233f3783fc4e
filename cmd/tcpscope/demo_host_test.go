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

// TestDemoWriteComments: the demo's pcapng carries each segment's note as
// its packet comment (tshark reads it back): the analyzer's note first,
// data segments naming their bytes as the lines do.
func TestDemoWriteComments(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	path := filepath.Join(t.TempDir(), "d.pcapng")
	out, errs, err := runBin(t, "demo", "--json", "-w", path)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, errs)
	}
	var notes []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["call"] == nil {
			n, _ := m["note"].(string)
			notes = append(notes, n)
		}
	}
	comments := tsharkComments(t, path)
	if len(comments) != len(notes) || len(notes) < 10 {
		t.Fatalf("%d comments for %d segments", len(comments), len(notes))
	}
	data := 0
	for i := range notes {
		if !strings.HasPrefix(comments[i], strings.SplitN(notes[i], ": \"", 2)[0]) {
			t.Errorf("frame %d: comment %q, note %q", i+1, comments[i], notes[i])
		}
		if strings.Contains(comments[i], `bytes of data: "`) {
			data++
		}
	}
	if data == 0 {
		t.Errorf("no data segment names its bytes: %q", comments)
	}
}
