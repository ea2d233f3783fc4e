package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// TestCgoFreeBinary builds tcpscope with CGO_ENABLED=0 (what the release
// binaries for Linux are), checks that it does not link libpcap, then
// captures real loopback traffic with it — through its own AF_PACKET
// socket, with a tcpdump filter compiled by libpcap loaded at run time and
// attached as a kernel filter — writes it with -w, and replays the file.
//
// With -tags pcapdl the same binary captures the way a cgo-free macOS build
// does: through libpcap loaded at run time (pcap_create … pcap_next_ex), so
// that path is tested here too.
func TestCgoFreeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	testroot.Need(t)
	for _, tags := range []string{"", "pcapdl"} {
		t.Run("tags="+tags, func(t *testing.T) { cgoFreeCapture(t, tags) })
	}
}

func cgoFreeCapture(t *testing.T, tags string) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tcpscope")
	build := exec.Command("go", "build", "-tags="+tags, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, b)
	}
	if ldd, err := exec.LookPath("ldd"); err == nil {
		b, _ := exec.Command(ldd, bin).CombinedOutput()
		if strings.Contains(string(b), "libpcap") {
			t.Fatalf("the cgo-free binary links libpcap:\n%s", b)
		}
	}
	ln, port := listenLoopback(t)
	defer ln.Close()
	out := filepath.Join(dir, "lo.pcap")
	cmd := exec.Command(bin, "capture", "-c", "3", "-w", out, "tcp", "port", strconv.Itoa(port))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "capturing on") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	dialOnce(t, port)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("capture: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("capture did not stop after 3 segments:\n%s", stderr.String())
	}
	lines := segLines(stdout.String())
	if len(lines) != 3 || !strings.Contains(lines[0], "[SYN]") || !strings.Contains(lines[0], ":"+strconv.Itoa(port)) {
		t.Fatalf("capture shows:\n%s\n%s", stdout.String(), stderr.String())
	}
	b, err := exec.Command(bin, "replay", out, "--no-summary").CombinedOutput()
	if err != nil || len(segLines(string(b))) < 3 {
		t.Fatalf("replay of the cgo-free capture: %v\n%s", err, b)
	}
	// A filter is a kernel filter: nothing else on loopback is shown.
	for _, l := range segLines(string(b)) {
		if !strings.Contains(l, ":"+strconv.Itoa(port)) {
			t.Errorf("a frame the filter should have dropped: %s", l)
		}
	}
}
