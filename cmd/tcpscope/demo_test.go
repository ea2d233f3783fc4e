package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// demoCmd runs the built demo with env added to the environment.
func demoCmd(t *testing.T, env []string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"demo", "--color", "never"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// TestDemoClientsBacklog: with --clients 3 the one-at-a-time echo server
// accepts each client only after it closed the previous one, while the
// kernel completed every handshake before (the listen backlog).
func TestDemoClientsBacklog(t *testing.T) {
	testroot.Need(t)
	out, errb, err := demoCmd(t, nil, "--clients", "3", "-w", "/dev/null")
	if err != nil {
		t.Fatalf("demo --clients 3: %v\n%s", err, errb)
	}
	lines := strings.Split(string(out), "\n")
	established := map[int]int{} // client port -> line of its handshake 3/3
	hs := regexp.MustCompile(`:(\d+) → \S+  \[ACK\].*handshake 3/3`)
	var accepts, closes []int
	acceptPort := map[int]int{}
	for i, l := range lines {
		if m := hs.FindStringSubmatch(l); m != nil {
			p, _ := strconv.Atoi(m[1])
			established[p] = i
		}
		if strings.Contains(l, "server accept(") {
			accepts = append(accepts, i)
			for p := range established {
				if strings.Contains(l, strconv.Itoa(p)) {
					acceptPort[i] = p
				}
			}
		}
		if strings.Contains(l, "server close(") {
			closes = append(closes, i)
		}
	}
	if len(established) != 3 || len(accepts) != 3 {
		t.Fatalf("%d handshakes, %d accepts; want 3 each:\n%s", len(established), len(accepts), out)
	}
	lastHS := 0
	for _, i := range established {
		lastHS = max(lastHS, i)
	}
	for k, a := range accepts[1:] {
		if a < lastHS {
			t.Errorf("accept of the client %d came before all handshakes were complete", k+2)
		}
		between := false
		for _, c := range closes {
			if c > accepts[k] && c < a {
				between = true
			}
		}
		if !between {
			t.Errorf("the server accepted client %d before closing client %d: not one at a time", k+2, k+1)
		}
		p, ok := acceptPort[a]
		if !ok || established[p] > a {
			t.Errorf("accept on line %d does not name a client whose handshake came earlier", a+1)
		}
	}
}

// TestDemoResetQuietAndTimes: the reset the scenario makes is no error
// message (the server's read shows ECONNRESET in the timeline), and no line
// of the timeline has a negative time; times never go back.
func TestDemoResetQuietAndTimes(t *testing.T) {
	testroot.Need(t)
	out, errb, err := demoCmd(t, nil, "--reset", "-w", "/dev/null")
	if err != nil {
		t.Fatalf("demo --reset: %v\n%s", err, errb)
	}
	if bytes.Contains(errb, []byte("reset by peer")) || bytes.Contains(errb, []byte("echo server")) {
		t.Errorf("the expected reset is reported as an error:\n%s", errb)
	}
	if !bytes.Contains(out, []byte("ECONNRESET")) || !bytes.Contains(out, []byte("[RST")) {
		t.Errorf("the timeline lacks the RST or the read that got ECONNRESET:\n%s", out)
	}
	at := regexp.MustCompile(`^(?:#\d+)?\s+(-?\d+\.\d{6})\s`)
	prev, n := -1.0, 0
	for _, l := range strings.Split(string(out), "\n") {
		m := at.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		n++
		if v < 0 || v < prev {
			t.Errorf("time %s after %.6f: %s", m[1], prev, l)
		}
		prev = v
	}
	if n < 20 {
		t.Errorf("only %d timed lines:\n%s", n, out)
	}
}

// TestDemoOutputs: -w /dev/null works; -w - puts a pcap on stdout and the
// text on stderr; without -w nothing goes to /tmp and the session is kept
// in $XDG_CACHE_HOME/tcpscope/last-demo.pcapng, replaced by each run,
// never through a symlink.
func TestDemoOutputs(t *testing.T) {
	testroot.Need(t)
	t.Run("dev-null", func(t *testing.T) {
		out, errb, err := demoCmd(t, nil, "-w", "/dev/null")
		if err != nil || !bytes.Contains(out, []byte("handshake 3/3")) || !bytes.Contains(out, []byte("1 connection")) {
			t.Fatalf("demo -w /dev/null: %v\nstdout:\n%s\nstderr:\n%s", err, out, errb)
		}
	})
	t.Run("stdout", func(t *testing.T) {
		out, errb, err := demoCmd(t, nil, "-w", "-")
		if err != nil {
			t.Fatalf("demo -w -: %v\n%s", err, errb)
		}
		if !bytes.Contains(errb, []byte("handshake 3/3")) || !bytes.Contains(errb, []byte("1 connection")) {
			t.Errorf("the text is not on stderr:\n%s", errb)
		}
		pc := filepath.Join(t.TempDir(), "out.pcap")
		os.WriteFile(pc, out, 0o644)
		var rout, rerr bytes.Buffer
		if code := run([]string{"tcpscope", "replay", "--color", "never", pc}, nil, &rout, &rerr); code != 0 {
			t.Fatalf("stdout is not a capture (%d bytes): %s", len(out), rerr.String())
		}
		seg := regexp.MustCompile(`(?m)^#\d+ `)
		if got, want := len(seg.FindAllString(rout.String(), -1)), len(seg.FindAllString(string(errb), -1)); got != want || got < 10 {
			t.Errorf("the pcap on stdout has %d segments, the text showed %d", got, want)
		}
	})
	t.Run("cache", func(t *testing.T) {
		cache := t.TempDir()
		tmpBefore := demoFilesIn(t, os.TempDir())
		env := []string{"XDG_CACHE_HOME=" + cache}
		_, errb, err := demoCmd(t, env)
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, errb)
		}
		last := filepath.Join(cache, "tcpscope", "last-demo.pcapng")
		if !bytes.Contains(errb, []byte("kept in "+last)) {
			t.Errorf("stderr does not say where the session is kept:\n%s", errb)
		}
		fi1, err := os.Stat(last)
		if err != nil {
			t.Fatal(err)
		}
		if tmpAfter := demoFilesIn(t, os.TempDir()); len(tmpAfter) > len(tmpBefore) {
			t.Errorf("the demo wrote to %s: %v", os.TempDir(), tmpAfter)
		}
		// The second run replaces the file (a new inode, renamed over it)
		// and leaves nothing else in the folder.
		if _, errb, err := demoCmd(t, env, "http"); err != nil {
			t.Fatalf("demo http: %v\n%s", err, errb)
		}
		fi2, err := os.Stat(last)
		if err != nil {
			t.Fatal(err)
		}
		if os.SameFile(fi1, fi2) {
			t.Error("the second run did not replace the last session")
		}
		if ents, _ := os.ReadDir(filepath.Dir(last)); len(ents) != 1 {
			t.Errorf("the cache folder holds %d entries, want only last-demo.pcapng", len(ents))
		}
		// A symlink planted at the name is replaced, not written through.
		target := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(target, []byte("keep me"), 0o644)
		os.Remove(last)
		if err := os.Symlink(target, last); err != nil {
			t.Fatal(err)
		}
		if _, errb, err := demoCmd(t, env); err != nil {
			t.Fatalf("demo: %v\n%s", err, errb)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep me" {
			t.Errorf("the demo wrote through the symlink: the target now holds %d bytes", len(b))
		}
		if fi, err := os.Lstat(last); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("last-demo.pcapng is not a regular file after the run: %v", err)
		}
	})
	t.Run("cache-unusable", func(t *testing.T) {
		// A cache folder that cannot be made: the demo runs all the same
		// and says the session is not kept.
		notDir := filepath.Join(t.TempDir(), "file")
		os.WriteFile(notDir, nil, 0o644)
		out, errb, err := demoCmd(t, []string{"XDG_CACHE_HOME=" + notDir})
		if err != nil || !bytes.Contains(out, []byte("1 connection")) || !bytes.Contains(errb, []byte("the session is not kept")) {
			t.Errorf("demo with an unusable cache: %v\n%s\n%s", err, out, errb)
		}
	})
}

// demoFilesIn lists the files in dir that the demo used to leave there.
func demoFilesIn(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "tcpscope-demo-*"))
	return m
}

// stepCommand is the shell line a step test runs in tmux: the demo, then
// its exit code and the terminal's mode (icanon: restored).
func stepCommand(t *testing.T, extra string) string {
	return fmt.Sprintf("%s %q demo --step --color never -w /dev/null; echo EXIT=$?; echo MODE:$(stty -a | tr ' ' '\\n' | grep icanon); sleep 60", extra, binary(t))
}

// TestDemoStepInTerminal drives demo --step in a real pseudo-terminal: the
// first event is on screen at once with a status line; Enter goes on, b
// goes back, keys are not echoed; q ends with the summary and the terminal
// in its normal mode.
func TestDemoStepInTerminal(t *testing.T) {
	testroot.Need(t)
	keys, screen := tmuxSession(t, stepCommand(t, ""))
	s := waitScreen(t, screen, "step 1/")
	if !strings.Contains(s, "server socket(") || !strings.Contains(s, "Enter/space next, b back") {
		t.Fatalf("first screen:\n%s", s)
	}
	total := regexp.MustCompile(`step 1/(\d+)`).FindStringSubmatch(s)[1]
	keys("Enter")
	waitScreen(t, screen, "step 2/"+total)
	keys("Space")
	s = waitScreen(t, screen, "step 3/"+total)
	if !strings.Contains(s, "server bind(") {
		t.Errorf("step 3 does not show the bind:\n%s", s)
	}
	keys("b")
	s = waitScreen(t, screen, "(1 back)")
	if strings.Contains(s, "server bind(") || !strings.Contains(s, "step 2/"+total) {
		t.Errorf("after b, want step 2 without the bind:\n%s", s)
	}
	// Keys are read raw, not echoed: 'z', a key with no meaning, leaves
	// the screen as it was.
	keys("z")
	time.Sleep(200 * time.Millisecond)
	if s := screen(); strings.Contains(s, "z") || !strings.Contains(s, "step 2/"+total) {
		t.Errorf("a key is echoed or moved the page:\n%s", s)
	}
	// On to the first segment, one step at a time: its status line names
	// the frame.
	n, _ := strconv.Atoi(total)
	for i := 3; i <= n; i++ {
		keys("Enter")
		if strings.Contains(waitScreen(t, screen, fmt.Sprintf("step %d/%s", i, total)), ": frame 1/") {
			break
		}
	}
	s = waitScreen(t, screen, ": frame 1/")
	if !strings.Contains(s, "#1 ") || !strings.Contains(s, "[SYN]") {
		t.Errorf("frame 1 is not on screen:\n%s", s)
	}
	keys("q")
	s = waitScreen(t, screen, "MODE:")
	if !strings.Contains(s, "EXIT=0") || !strings.Contains(s, "1 connection:") || !strings.Contains(s, "MODE:icanon") {
		t.Errorf("after q want exit 0, the summary and a restored terminal:\n%s", s)
	}
}

// TestDemoStepCtrlC: Ctrl-C ends paging at once with the summary (in raw
// mode it arrives as a key).
func TestDemoStepCtrlC(t *testing.T) {
	testroot.Need(t)
	keys, screen := tmuxSession(t, stepCommand(t, ""))
	waitScreen(t, screen, "step 1/")
	keys("C-c")
	s := waitScreen(t, screen, "MODE:")
	if !strings.Contains(s, "1 connection:") || !strings.Contains(s, "MODE:icanon") {
		t.Errorf("after Ctrl-C want the summary and a restored terminal:\n%s", s)
	}
}

// TestDemoStepSIGTERM: SIGTERM to tcpscope ends paging too (it is passed on
// to the demo in its namespace): exit 130, summary, terminal restored.
func TestDemoStepSIGTERM(t *testing.T) {
	testroot.Need(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The shell writes its pid, then becomes tcpscope (exec), so the pid is
	// tcpscope's.
	cmd := fmt.Sprintf("sh -c 'echo $$ > %s; exec %s demo --step --color never -w /dev/null'; echo EXIT=$?; echo MODE:$(stty -a | tr ' ' '\\n' | grep icanon); sleep 60", pidFile, binary(t))
	_, screen := tmuxSession(t, cmd)
	waitScreen(t, screen, "step 1/")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s := waitScreen(t, screen, "MODE:")
	if !strings.Contains(s, "EXIT=130") || !strings.Contains(s, "1 connection:") || !strings.Contains(s, "MODE:icanon") {
		t.Errorf("after SIGTERM want exit 130, the summary and a restored terminal:\n%s", s)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("SIGTERM took %v to stop the demo", d)
	}
}

// TestDemoSIGTERMWhilePeersRun: a signal while the peers are still at work
// (a lossy transfer that takes seconds) stops them at once; what was
// captured is shown with its summary, exit 130.
func TestDemoSIGTERMWhilePeersRun(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping: --loss needs nftables (apt-get install nftables)")
	}
	cmd := exec.Command(binary(t), "demo", "--color", "never", "--loss", "40", "-w", "/dev/null")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	took := time.Since(start)
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("demo after SIGTERM: %v, want exit 130\n%s\n%s", err, out.String(), errb.String())
	}
	if took > 2*time.Second {
		t.Errorf("the demo took %v to stop", took)
	}
	if !strings.Contains(out.String(), "server socket(") || !strings.Contains(out.String(), "connection") {
		t.Errorf("want what was captured and the summary:\n%s", out.String())
	}
	if strings.Contains(errb.String(), "/dev/null (open it") {
		t.Errorf("stderr suggests replaying /dev/null:\n%s", errb.String())
	}
}
