package main

import (
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
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(readme, []byte("../shared")) || bytes.Contains(readme, []byte("shared/spec")) || bytes.Contains(readme, []byte("shared/tools")) {
		t.Error("README names paths outside the repository")
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
