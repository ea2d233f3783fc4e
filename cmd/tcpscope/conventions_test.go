package main

import (
	"github.com/tcpscope/tcpscope/internal/testroot"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns stdout, stderr and
// the exit code.
func runCLI(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"tcpscope"}, args...), bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// TestVersion: --version and the version command print the version, the
// commit and the Go version, from the build info of a real build.
func TestVersion(t *testing.T) {
	out, errs, code := runCLI(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "tcpscope ") || !strings.Contains(out, "built with go") {
		t.Fatalf("--version: exit %d, out %q, err %q", code, out, errs)
	}
	out2, _, code := runCLI(t, nil, "version")
	if code != 0 || out2 != out {
		t.Fatalf("version: exit %d, %q; want %q", code, out2, out)
	}
	// A real build from this checkout records its commit.
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		// Go stamps the commit only in a plain clone (not a git worktree,
		// whose .git is a file, nor an unpacked tarball).
		t.Skip("not a plain git clone: the build records no commit")
	}
	bin := filepath.Join(t.TempDir(), "tcpscope")
	if b, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v: %s", bin, err, b)
	}
	if !regexp.MustCompile(`^tcpscope \S+ \(commit [0-9a-f]{12}.*built with go1\.\d+`).Match(b) {
		t.Errorf("--version of a build: %q, want the commit and Go version", b)
	}
	b, _ = exec.Command(bin, "-ldflags").CombinedOutput() // not a flag: one line, no doubled name
	if strings.Contains(string(b), "tcpscope tcpscope") {
		t.Errorf("doubled program name: %q", b)
	}
}

// TestUnknownCommand: a typo gets the nearest command and exit 2, not
// urfave's "No help topic" with exit 3.
func TestUnknownCommand(t *testing.T) {
	_, errs, code := runCLI(t, nil, "replya", "x")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "did you mean 'tcpscope replay'") {
		t.Errorf("stderr %q, want one line naming replay", errs)
	}
	_, errs, code = runCLI(t, nil, "zzzzzzzz")
	if code != exitUsage || !strings.Contains(errs, "commands: replay") {
		t.Errorf("far from any command: exit %d, %q", code, errs)
	}
}

// TestReplayDirectory: a directory is called a directory.
func TestReplayDirectory(t *testing.T) {
	_, errs, code := runCLI(t, nil, "replay", "../../pcaps")
	if code != exitError || !strings.Contains(errs, "is a directory") {
		t.Errorf("exit %d, %q", code, errs)
	}
}

// TestHelpNamesRepoPaths: help text names only files in this repository.
func TestHelpNamesRepoPaths(t *testing.T) {
	for _, cmd := range []string{"replay", "capture", "stats", "follow", "demo", "send", "decode", "ladder", "graph"} {
		out, _, _ := runCLI(t, nil, cmd, "--help")
		if strings.Contains(out, "shared/") {
			t.Errorf("%s --help names a path outside the repository: %q", cmd, out)
		}
		for _, m := range regexp.MustCompile(`docs/[a-z0-9-]+\.md`).FindAllString(out, -1) {
			if _, err := os.Stat("../../" + m); err != nil {
				t.Errorf("%s --help names %s, which is not in the repository", cmd, m)
			}
		}
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(docs, "../../README.md", "../../pcaps/gen/README.md", "../../scripts/oracle-all.sh", "../../pcaps/tshark/regen.sh") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("../shared")) || bytes.Contains(b, []byte("/work/shared")) || bytes.Contains(b, []byte("shared/spec")) || bytes.Contains(b, []byte("shared/tools")) {
			t.Errorf("%s names paths outside the repository", f)
		}
	}
}

// TestSendFlags: a missing --to has a --help hint; --wait's default shows once.
func TestSendFlags(t *testing.T) {
	_, errs, code := runCLI(t, nil, "send", "../../pcaps/tcpdump-print-flags.pcap")
	if code != exitUsage || !strings.Contains(errs, "--help") {
		t.Errorf("send without --to: exit %d, %q", code, errs)
	}
	out, _, _ := runCLI(t, nil, "send", "--help")
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--wait") && strings.Count(l, "default") != 1 {
			t.Errorf("--wait help: %q", l)
		}
	}
}

// TestStreamNotInCapture: a stream the capture does not hold is one line
// naming the stream count and exit 2, in every command that takes --stream.
func TestStreamNotInCapture(t *testing.T) {
	f := "../../pcaps/tcpdump-print-flags.pcap" // one stream
	for _, args := range [][]string{
		{"replay", f, "--stream", "7"},
		{"replay", f, "--stream", "7", "--json"},
		{"follow", f, "--stream", "7"},
		{"ladder", f, "--stream", "7"},
		{"graph", f, "--stream", "7", "-o", filepath.Join(t.TempDir(), "g.svg")},
		{"send", f, "--stream", "7", "--to", "127.0.0.1:9"},
	} {
		out, errs, code := runCLI(t, nil, args...)
		if code != exitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no such stream 7: the capture holds 1 TCP stream,") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	// The last stream exists.
	if _, errs, code := runCLI(t, nil, "replay", f, "--stream", "0"); code != 0 {
		t.Errorf("--stream 0: exit %d: %s", code, errs)
	}
}

// TestFilterMatchesNothing: no output, one line on stderr, exit 0 (tshark).
func TestFilterMatchesNothing(t *testing.T) {
	out, errs, code := runCLI(t, nil, "replay", "../../pcaps/tcpdump-print-flags.pcap", "tcp port 9", "--no-summary")
	if code != 0 || out != "" || !strings.Contains(errs, "no TCP segment matched") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestCountFlag: -c -1 is refused; -c1 is -c 1, as in tcpdump.
func TestCountFlag(t *testing.T) {
	f := "../../pcaps/tcpdump-print-flags.pcap"
	if _, errs, code := runCLI(t, nil, "replay", f, "-c", "-1"); code != exitUsage {
		t.Errorf("-c -1: exit %d: %s", code, errs)
	}
	out, errs, code := runCLI(t, nil, "replay", f, "-c1", "--no-summary")
	if code != 0 || framesShown(out) != "1" {
		t.Errorf("-c1: exit %d, frames %q: %s", code, framesShown(out), errs)
	}
	out, _, _ = runCLI(t, nil, "replay", "-c2", f, "--no-summary")
	if framesShown(out) != "1,2" {
		t.Errorf("-c2 before the file: frames %q", framesShown(out))
	}
}

// TestCaptureBadFilter: a filter libpcap cannot compile is a bad command
// line in capture as in replay: exit 2.
func TestCaptureBadFilter(t *testing.T) {
	testroot.Need(t)
	_, errs, code := runCLI(t, nil, "capture", "-c", "1", "tcp", "port", "eighty")
	if code != exitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "eighty") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestStreamOnlyQuoted: a stream that only a TCP header quoted in an ICMP
// error names (Wireshark numbers it; none of its segments was captured) is
// not "no such stream 3" in a capture of 13 (as it was): one line saying
// what it is and where, exit 2, in every command that needs its segments;
// replay --stream shows it.
func TestStreamOnlyQuoted(t *testing.T) {
	f := "../../pcaps/gen-icmp-errors.pcap" // stream 3: the ICMP error of frame 15
	for _, args := range [][]string{
		{"follow", f, "--stream", "3"},
		{"ladder", f, "--stream", "3"},
		{"graph", f, "--stream", "3", "-o", filepath.Join(t.TempDir(), "g.svg")},
		{"send", f, "--stream", "3", "--to", "127.0.0.1:9"},
	} {
		out, errs, code := runCLI(t, nil, args...)
		if code != exitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "stream 3 has no TCP segment of its own") || strings.Contains(errs, "no such stream") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	out, errs, code := runCLI(t, nil, "replay", f, "--stream", "3", "--no-summary")
	if code != 0 || !strings.Contains(out, "#15") || !strings.Contains(out, "ICMP port unreachable") {
		t.Errorf("replay --stream 3: exit %d, %q, %q", code, out, errs)
	}
}
