package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds tcpscope once: the demo re-executes its own binary inside a
// network namespace, so it cannot run as part of the test binary.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tcpscope-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tcpscope")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

func runBin(t *testing.T, args ...string) (string, string, error) {
	return runBinIn(t, "", args...)
}

func runBinIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// tsharkFlags counts frames tshark flags with filter in path.
func tsharkCount(t *testing.T, path, filter string) int {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark missing in CI (./dev test installs it)")
		}
		t.Skip("skipping tshark cross-check: tshark not installed")
	}
	out, err := exec.Command("tshark", "-n", "-r", path, "-Y", filter).Output()
	if err != nil {
		t.Fatalf("tshark -r %s -Y %s: %v", path, filter, err)
	}
	return strings.Count(string(out), "\n")
}

func TestDemoBasic(t *testing.T) {
	testroot.Need(t)
	pc := filepath.Join(t.TempDir(), "basic.pcapng")
	out, errOut, err := runBin(t, "demo", "--color", "never", "-w", pc)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	// The story in the lecture's order.
	want := []string{"server socket(", "server bind(", "server listen(", "client connect(",
		"handshake 1/3", "handshake 2/3", "handshake 3/3", "server accept(", "client write(",
		"bytes of data", "server read(", "client close(", "client closes its side (FIN 1/4)", "acknowledges the server's FIN (4/4)", "closed by both"}
	pos := 0
	for _, w := range want {
		i := strings.Index(out[pos:], w)
		if i < 0 {
			t.Fatalf("demo output lacks %q after position %d:\n%s", w, pos, out)
		}
		pos += i
	}
	// tshark reads the written capture, with the same segments we showed.
	ours := strings.Count(out, "\n#")
	if n := tsharkCount(t, pc, "tcp"); n != ours || n < 10 {
		t.Errorf("tshark sees %d TCP segments in %s, the demo showed %d", n, pc, ours)
	}
}

func TestDemoLossRetransmissions(t *testing.T) {
	testroot.Need(t)
	pc := filepath.Join(t.TempDir(), "loss.pcap")
	out, errOut, err := runBin(t, "demo", "--loss", "15", "--json", "-w", pc)
	if err != nil {
		t.Fatalf("demo --loss: %v\n%s", err, errOut)
	}
	ours := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct{ Analysis []string }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		for _, a := range m.Analysis {
			if strings.Contains(a, "retransmission") {
				ours++
			}
		}
	}
	theirs := tsharkCount(t, pc, "tcp.analysis.retransmission")
	if ours == 0 || theirs == 0 {
		t.Fatalf("expected retransmissions with 15%% loss: ours %d, tshark %d", ours, theirs)
	}
	if ours != theirs {
		t.Errorf("retransmissions: ours %d, tshark %d", ours, theirs)
	}
}

func TestDemoVariants(t *testing.T) {
	testroot.Need(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"slow-reader", []string{"--slow-reader"}, []string{"zero window", "window update"}},
		{"reset", []string{"--reset"}, []string{"[RST,ACK]", "reset by client"}},
		{"ipv6", []string{"--ipv6"}, []string{"::1", "handshake 3/3"}},
		{"http", []string{"http"}, []string{"client connect(", "server accept(", "handshake 3/3", "client write("}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := filepath.Join(t.TempDir(), tc.name+".pcapng")
			args := append([]string{"demo", "--color", "never", "-w", pc}, tc.args...)
			out, errOut, err := runBin(t, args...)
			if err != nil {
				t.Fatalf("demo %v: %v\n%s\n%s", tc.args, err, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("demo %v output lacks %q:\n%s", tc.args, w, out)
				}
			}
			if tc.name == "http" {
				if n := tsharkCount(t, pc, "http.request.method == \"GET\""); n != 1 {
					t.Errorf("tshark sees %d HTTP GETs in the capture, want 1", n)
				}
			}
			if tc.name == "slow-reader" {
				if n := tsharkCount(t, pc, "tcp.analysis.zero_window"); n == 0 {
					t.Errorf("tshark sees no zero window in the slow-reader capture")
				}
			}
		})
	}
}

// TestDemoStep: --step reads keys from a terminal (see
// TestDemoStepInTerminal); keys piped in are refused before anything runs.
func TestDemoStep(t *testing.T) {
	out, errOut, err := runBinIn(t, strings.Repeat("\n", 200), "demo", "--step", "--color", "never", "-w", filepath.Join(t.TempDir(), "s.pcap"))
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitUsage || !strings.Contains(errOut, "--step needs a terminal") || out != "" {
		t.Fatalf("demo --step with a pipe: %v\n%s\n%s", err, out, errOut)
	}
}

// TestDemoUnprivileged runs the demo as an ordinary user: it must work in a
// user namespace without sudo where the kernel allows one.
func TestDemoUnprivileged(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not installed")
	}
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	dir, err := os.MkdirTemp("", "tcpscope-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "demo", "--color", "never", "-w", filepath.Join(dir, "u.pcap"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		// Allowed only with the documented one-line advice.
		if !strings.Contains(errb.String(), "sudo") || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
			t.Fatalf("demo as nobody: %v, stderr %q", err, errb.String())
		}
		t.Logf("user namespaces not allowed here; the demo said: %s", errb.String())
		return
	}
	if !strings.Contains(out.String(), "handshake 3/3") {
		t.Errorf("demo as nobody printed:\n%s", out.String())
	}
}

// TestCaptureWithoutPrivilege runs capture as an unprivileged user: one
// clear line saying what to do, exit code 1, no stack trace.
func TestCaptureWithoutPrivilege(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not installed")
	}
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "capture", "-c", "1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("capture as nobody: err %v, want exit code 1; stderr %q", err, errb.String())
	}
	msg := strings.TrimSpace(errb.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "setcap") {
		t.Errorf("want one line explaining the privilege, got %q", msg)
	}
}

// TestCaptureLive captures a real loopback exchange with a BPF filter, -c
// and -w, and checks the file tshark reads back.
func TestCaptureLive(t *testing.T) {
	testroot.Need(t)
	pc := filepath.Join(t.TempDir(), "live.pcap")
	py := `import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); p=s.getsockname()[1]
print(p, flush=True)
time.sleep(0.5)
c=socket.create_connection(("127.0.0.1",p)); a,_=s.accept(); c.sendall(b"hello"); a.recv(5); c.close(); a.close(); time.sleep(0.2)`
	out, errOut, err := runBin(t, "capture", "--color", "never", "-w", pc, "--run", "python3 -c '"+py+"'", "tcp")
	if err != nil {
		t.Fatalf("capture --run: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "handshake 1/3") || !strings.Contains(out, "5 bytes of data") {
		t.Errorf("capture output lacks the exchange:\n%s", out)
	}
	if !strings.Contains(errOut, "packets received by the kernel") {
		t.Errorf("capture did not print the kernel's counters: %q", errOut)
	}
	if n := tsharkCount(t, pc, "tcp"); n < 8 || n != strings.Count(out, "\n#")+boolInt(strings.HasPrefix(out, "#")) {
		t.Errorf("tshark reads %d TCP frames from %s; capture showed:\n%s", n, pc, out)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
