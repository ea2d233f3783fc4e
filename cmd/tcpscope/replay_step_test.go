package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStepHelperProcess is not a test: it is tcpscope itself when the step
// test starts this test binary inside tmux (the usual helper-process trick,
// so the test needs no separate build).
func TestStepHelperProcess(t *testing.T) {
	if os.Getenv("TCPSCOPE_STEP_HELPER") != "1" {
		t.Skip("helper process for TestStepInTerminal")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(append([]string{"tcpscope"}, args...), os.Stdin, os.Stdout, os.Stderr))
}

// tmuxSession runs command in a detached 160x16 tmux session of its own
// server and returns functions to type keys and to read the screen.
func tmuxSession(t *testing.T, command string) (keys func(...string), screen func() string) {
	t.Helper()
	tm := startTmux(t, 160, 16, nil, command)
	keys = func(k ...string) { tm(append([]string{"send-keys", "-t", "0"}, k...)...) }
	screen = func() string { return tm("capture-pane", "-p", "-t", "0") }
	return keys, screen
}

// startTmux starts command in a detached w x h tmux session of a server of
// its own (extra "-e VAR=value" words in env), killed when the test ends,
// and returns a function running a tmux command against that server.
func startTmux(t *testing.T, w, h int, env []string, command string) func(args ...string) string {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is missing (CI=true: this test must run)")
		}
		t.Skip("skipping: tmux is not installed (apt-get install tmux), needed for a pseudo-terminal")
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	args := []string{"-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	tm(append(args, command)...)
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })
	return tm
}

// waitScreen waits until the screen contains want, and returns it.
func waitScreen(t *testing.T, screen func() string, want string) string {
	t.Helper()
	var s string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		if s = screen(); strings.Contains(s, want) {
			return s
		}
	}
	t.Fatalf("screen never showed %q; it shows:\n%s", want, s)
	return ""
}

// waitGone waits until the screen no longer shows gone, and returns it.
func waitGone(t *testing.T, screen func() string, gone string) string {
	t.Helper()
	var s string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		if s = screen(); !strings.Contains(s, gone) {
			return s
		}
	}
	t.Fatalf("screen still shows %q:\n%s", gone, s)
	return ""
}

// TestStepInTerminal drives --step through a real pseudo-terminal: keys in,
// screen out; Enter and space go forward, b back, x shows and hides the
// header fields, q quits with the summary
// and the terminal back in its normal (canonical) mode.
func TestStepInTerminal(t *testing.T) {
	capture, err := filepath.Abs("../../pcaps/tcpdump-print-flags.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("TCPSCOPE_STEP_HELPER=1 %q -test.run='^TestStepHelperProcess$' -- replay --step --color never %q; echo EXIT=$?; echo MODE:$(stty -a | tr ' ' '\n' | grep icanon); sleep 60",
		os.Args[0], capture)
	keys, screen := tmuxSession(t, cmd)

	s := waitScreen(t, screen, "frame 1/10, stream 0 — Enter/space next, b back, x headers, q quit")
	if !strings.Contains(s, "#1 ") || strings.Contains(s, "#2 ") {
		t.Fatalf("first screen:\n%s", s)
	}
	keys("Enter")
	waitScreen(t, screen, "frame 2/10, stream 0 —")
	keys("Space")
	s = waitScreen(t, screen, "frame 3/10, stream 0 —")
	if !strings.Contains(s, "#1 ") || !strings.Contains(s, "#2 ") || !strings.Contains(s, "#3 ") {
		t.Errorf("after two steps, want #1–#3 on screen:\n%s", s)
	}
	keys("b")
	s = waitScreen(t, screen, "frame 2/10, stream 0 (1 back)")
	if strings.Contains(s, "#3 ") {
		t.Errorf("after b, #3 is still shown:\n%s", s)
	}
	keys("b")
	waitScreen(t, screen, "frame 1/10, stream 0 (2 back)")
	keys("Enter")
	waitScreen(t, screen, "frame 2/10, stream 0 (1 back)")
	keys("Enter")
	waitScreen(t, screen, "frame 3/10, stream 0 —")
	keys("Enter")
	s = waitScreen(t, screen, "frame 4/10, stream 0 —")
	if !strings.Contains(s, "#4 ") {
		t.Errorf("want #4 shown:\n%s", s)
	}
	// x shows the segment's header fields (tcpscope decode's view) under
	// it, x again hides them.
	keys("x")
	s = waitScreen(t, screen, "Payload · ")
	if !strings.Contains(s, "frame 4/10, stream 0 —") {
		t.Errorf("after x, want the header view of #4:\n%s", s)
	}
	keys("x")
	s = waitGone(t, screen, "Payload · ")
	if !strings.Contains(s, "#4 ") {
		t.Errorf("after x again, want #4 without its header view:\n%s", s)
	}
	keys("q")
	s = waitScreen(t, screen, "MODE:")
	if !strings.Contains(s, "EXIT=0") {
		t.Errorf("want exit 0 after q:\n%s", s)
	}
	if !strings.Contains(s, "1 connection:") {
		t.Errorf("want the summary after q:\n%s", s)
	}
	if !strings.Contains(s, "MODE:icanon") {
		t.Errorf("terminal left in raw mode (stty -a):\n%s", s)
	}
}

// TestStepCtrlC: Ctrl-C in step mode quits and restores the terminal too
// (in raw mode it arrives as a key, not a signal).
func TestStepCtrlC(t *testing.T) {
	capture, err := filepath.Abs("../../pcaps/tcpdump-print-flags.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("TCPSCOPE_STEP_HELPER=1 %q -test.run='^TestStepHelperProcess$' -- replay --step --color never %q; echo EXIT=$?; echo MODE:$(stty -a | tr ' ' '\n' | grep icanon); sleep 60",
		os.Args[0], capture)
	keys, screen := tmuxSession(t, cmd)
	waitScreen(t, screen, "frame 1/10")
	keys("C-c")
	s := waitScreen(t, screen, "MODE:")
	if !strings.Contains(s, "1 connection:") || !strings.Contains(s, "MODE:icanon") {
		t.Errorf("after Ctrl-C want the summary and a restored terminal:\n%s", s)
	}
}

func TestStepNeedsTerminal(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"tcpscope", "replay", "--step", "../../pcaps/tcpdump-print-flags.pcap"}, bytes.NewReader(nil), &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "--step needs a terminal on stdin") {
		t.Fatalf("exit %d, %q; want a usage error about the terminal", code, errb.String())
	}
}
