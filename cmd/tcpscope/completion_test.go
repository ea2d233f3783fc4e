package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateMan = flag.Bool("update-man", false, "rewrite docs/tcpscope.1 from the command definitions")

// TestManPageFresh: the checked-in man page is what the command
// definitions give today (go test ./cmd/tcpscope -run TestManPageFresh
// -update-man rewrites it).
func TestManPageFresh(t *testing.T) {
	out, errs, code := runCLI(t, nil, "man")
	if code != 0 || !strings.Contains(out, ".TH tcpscope 1") || !strings.Contains(out, "replay") {
		t.Fatalf("man: exit %d, %s", code, errs)
	}
	const path = "../../docs/tcpscope.1"
	if *updateMan {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != out {
		t.Errorf("docs/tcpscope.1 is stale: run go test ./cmd/tcpscope -run TestManPageFresh -update-man")
	}
	if _, err := exec.LookPath("man"); err == nil {
		// The page renders without troff warnings.
		cmd := exec.Command("man", "--warnings", "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=0")
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "see TCP at work: decode, explain and replay TCP sessions") {
			t.Errorf("man -l %s: %v\n%s", path, err, b)
		}
	}
}

// TestCompletion: the bash script, loaded by bash, registers tcpscope and
// completes a command and a flag through the real binary, whatever the
// binary's file name was when built; zsh and fish scripts are printed.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	if b, err := exec.Command("go", "build", "-o", filepath.Join(dir, "tcpscope"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	script := `source <(tcpscope completion bash)
complete -p tcpscope
COMP_WORDS=(tcpscope rep); COMP_CWORD=1; _tcpscope_complete; echo "cmd: ${COMPREPLY[*]}"
COMP_WORDS=(tcpscope replay --abs); COMP_CWORD=2; _tcpscope_complete; echo "flag: ${COMPREPLY[*]}"
`
	cmd := exec.Command(bash, "--norc", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil || !strings.Contains(out, "complete -o bashdefault -o default -F _tcpscope_complete tcpscope") ||
		!strings.Contains(out, "cmd: replay") || !strings.Contains(out, "flag: --absolute") {
		t.Errorf("bash completion: %v\n%s", err, out)
	}
	for _, sh := range []string{"zsh", "fish"} {
		s, errs, code := runCLI(t, nil, "completion", sh)
		if code != 0 || !strings.Contains(s, "tcpscope") {
			t.Errorf("completion %s: exit %d %s", sh, code, errs)
		}
	}
	if _, _, code := runCLI(t, nil, "completion", "tcsh"); code != exitUsage {
		t.Errorf("completion tcsh: exit %d", code)
	}
}

// TestMakeInstall: make install puts the binary, the man page and the
// three completion scripts under DESTDIR/PREFIX.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dest := t.TempDir()
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX=/usr")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, b)
	}
	for _, p := range []string{"bin/tcpscope", "share/man/man1/tcpscope.1", "share/bash-completion/completions/tcpscope",
		"share/zsh/site-functions/_tcpscope", "share/fish/vendor_completions.d/tcpscope.fish"} {
		if fi, err := os.Stat(filepath.Join(dest, "usr", p)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not installed: %v", p, err)
		}
	}
}
