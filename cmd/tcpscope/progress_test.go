package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgressBar: on a large capture (≥ 32 MiB), stats, follow, graph and
// replay into a file draw a progress bar on stderr when stderr is a
// terminal (here a pseudo-terminal made by script(1)), and never when it
// is not (a pipe or a log file).
func TestProgressBar(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 34 MB capture")
	}
	if _, err := exec.LookPath("script"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("script (util-linux) is needed for the terminal test")
		}
		t.Skip("skipping: script(1) from util-linux is not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "large.pcap")
	writeSYNFlood(t, path, 600000) // 34 MB
	bin := binary(t)
	out := filepath.Join(dir, "out")
	for _, args := range []string{
		"replay --color never " + path,
		"stats " + path,
		"follow --stream 0 " + path,
		"graph --stream 0 --force -o " + out + ".svg " + path, // run twice: --force
	} {
		name := strings.Fields(args)[0]
		t.Run(name, func(t *testing.T) {
			// stdout into a file, stderr on the pseudo-terminal, which
			// script copies to its own stdout.
			cmd := exec.Command("script", "-qec", bin+" "+args+" >"+out+".txt", "/dev/null")
			tty, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", args, err, tty)
			}
			if !strings.Contains(string(tty), "reading "+path) || !strings.Contains(string(tty), "%") {
				t.Errorf("%s: no progress bar on the terminal:\n%q", args, tail(string(tty), 300))
			}
			// stderr not a terminal: no bar.
			cmd = exec.Command(bin, strings.Fields(args)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\n%s", args, err, stderr.String())
			}
			if strings.Contains(stderr.String(), "reading ") {
				t.Errorf("%s: a progress bar went into a pipe:\n%s", args, tail(stderr.String(), 300))
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
