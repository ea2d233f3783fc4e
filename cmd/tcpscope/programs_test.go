package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// Tests of demo --server/--client: the student's own programs, traced,
// with their calls among the segments. They run real programs (C built
// with cc, Python, Go) on real sockets in the demo's namespace, as root
// (the programs themselves then run as nobody).

// exampleDir is a temporary directory every user may enter: t.TempDir is
// 0700, and the student's programs run as nobody when the tests are root.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tcpscope-programs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildCSource compiles C source text into dir/name.
func buildCSource(t *testing.T, dir, name, src string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("skipping: no C compiler (cc)")
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command("cc", "-O2", "-o", out, c).CombinedOutput(); err != nil {
		t.Fatalf("cc %s: %v\n%s", name, err, b)
	}
	return out
}

// demoPrograms runs the demo with the given extra arguments and returns
// stdout, stderr and the error.
func demoPrograms(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	testroot.Need(t)
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	all := append([]string{"demo", "--color", "never", "-w", filepath.Join(exampleDir(t), "d.pcap")}, args...)
	return runBin(t, all...)
}

// indexRe is the index of the first match of re in out from from on, or
// -1.
func indexRe(out string, from int, re string) int {
	loc := regexp.MustCompile(re).FindStringIndex(out[from:])
	if loc == nil {
		return -1
	}
	return from + loc[0]
}

// assertLecture checks the order the lecture tells, on a basic echo
// exchange: connect before the SYN, accept after the handshake's last
// ACK, each write before the data segment that carries its bytes, close
// before the FIN of that side.
func assertLecture(t *testing.T, out, connect, accept, write string, writeLen int, closeCall string) {
	t.Helper()
	steps := []struct{ what, re string }{
		{"connect", regexp.QuoteMeta(connect)},
		{"SYN", `\[SYN\]`},
		{"SYN-ACK", `\[SYN,ACK\]`},
		{"handshake ACK", `handshake 3/3`},
		{"accept", regexp.QuoteMeta(accept)},
	}
	pos := 0
	for _, s := range steps {
		i := indexRe(out, pos, s.re)
		if i < 0 {
			t.Fatalf("no %s (%s) after position %d:\n%s", s.what, s.re, pos, out)
		}
		pos = i + 1
	}
	// The write, then the data segment of its length.
	wi := indexRe(out, 0, regexp.QuoteMeta(write))
	if wi < 0 {
		t.Fatalf("no %q:\n%s", write, out)
	}
	if di := indexRe(out, 0, `\[PSH,ACK\]\s+seq \d+ ack \d+ len `+strconv.Itoa(writeLen)+` `); di < wi {
		t.Fatalf("the %d-byte data segment is not after %q:\n%s", writeLen, write, out)
	}
	ci := indexRe(out, 0, regexp.QuoteMeta(closeCall))
	if ci < 0 {
		t.Fatalf("no %q:\n%s", closeCall, out)
	}
	if fi := indexRe(out, ci, `\[FIN,ACK\]`); fi < 0 {
		t.Fatalf("no FIN after %q:\n%s", closeCall, out)
	}
}

// TestDemoProgramsC: the lecture's C server and client from examples/c,
// as the README shows them.
func TestDemoProgramsC(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", cli+" 127.0.0.1 8080")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	assertLecture(t, out,
		`client connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`,
		`server accept(3, {sa_family=AF_INET, sin_port=htons(`,
		`client write(3, "hello, TCP\n", 11) = 11`, 11,
		`client close(3) = 0`)
	for _, w := range []string{
		`server bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0`,
		"server listen(3, 16) = 0",
		"server stdout: listening on port 8080",
		"client stdout: echo: hello, TCP",
		`server read(4, "hello, TCP\n", 1024) = 11`,
		"server close(4) = 0",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// The server loops on accept for ever: stopped once the client is
	// done, which is no error.
	if strings.Contains(errOut, "server:") || strings.Contains(errOut, "client:") {
		t.Errorf("stderr names a failure:\n%s", errOut)
	}
	if !strings.Contains(errOut, "nobody") {
		t.Errorf("stderr does not say the programs run as nobody:\n%s", errOut)
	}
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "c", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const pyServer = `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
c, addr = s.accept()
while True:
    data = c.recv(1024)
    if not data:
        break
    c.sendall(data)
c.close()
s.close()
`

const pyClient = `import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b"hello from python\n")
print(c.recv(1024).decode().strip())
c.close()
`

// TestDemoProgramsPython: a Python pair (recv and sendall are the
// recvfrom and sendto system calls).
func TestDemoProgramsPython(t *testing.T) {
	py := "/usr/bin/python3" // not a per-user install the programs' user cannot read
	if _, err := os.Stat(py); err != nil {
		t.Skip("skipping: no /usr/bin/python3")
	}
	dir := exampleDir(t)
	os.WriteFile(filepath.Join(dir, "server.py"), []byte(pyServer), 0o644)
	os.WriteFile(filepath.Join(dir, "client.py"), []byte(pyClient), 0o644)
	out, errOut, err := demoPrograms(t, "--server", py+" "+filepath.Join(dir, "server.py")+" 8081",
		"--client", py+" "+filepath.Join(dir, "client.py")+" 127.0.0.1 8081")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	assertLecture(t, out,
		`client connect(3, {sa_family=AF_INET, sin_port=htons(8081), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`,
		`server accept4(3, {sa_family=AF_INET`,
		`client sendto(3, "hello from python\n", 18) = 18`, 18,
		`client close(3) = 0`)
	for _, w := range []string{`server recvfrom(4, "hello from python\n", 1024) = 18`, "client stdout: hello from python"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(errOut, "server:") || strings.Contains(errOut, "client:") {
		t.Errorf("stderr names a failure:\n%s", errOut)
	}
}

const goPair = `package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
)

func main() {
	if os.Args[1] == "server" {
		ln, err := net.Listen("tcp4", "127.0.0.1:"+os.Args[2])
		if err != nil {
			panic(err)
		}
		c, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Write([]byte(line))
		c.Close()
		return
	}
	c, err := net.Dial("tcp4", "127.0.0.1:"+os.Args[2])
	if err != nil {
		panic(err)
	}
	c.Write([]byte("hello from Go\n"))
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	c.Close()
}
`

// TestDemoProgramsGo: a Go pair. Go's sockets are non-blocking: its
// accept4 and read that would block return EAGAIN, the runtime waits in
// epoll and tries again; the tracer folds those retries away, so the
// timeline reads as for a blocking C program.
func TestDemoProgramsGo(t *testing.T) {
	dir := exampleDir(t)
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(goPair), 0o644)
	bin := filepath.Join(dir, "pair")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GO111MODULE=off", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, errOut, err := demoPrograms(t, "--server", bin+" server 8082", "--client", bin+" client 8082")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	assertLecture(t, out,
		`client connect(`, `server accept4(`,
		`client write(`, 14,
		`client close(`)
	// The server's accept4 waited for the client (its start-up, at least),
	// in epoll and EAGAIN retries, all folded into one call.
	if !regexp.MustCompile(`server accept4\(3, .*= 4  ▸ blocked [0-9.]+m?s first`).MatchString(out) {
		t.Errorf("the accept4's wait is not shown:\n%s", out)
	}
	if strings.Contains(out, "= -1 EAGAIN") {
		t.Errorf("EAGAIN retries were not folded away:\n%s", out)
	}
	if !strings.Contains(out, `"hello from Go\n", 14) = 14`) || !strings.Contains(out, "client stdout: hello from Go") {
		t.Errorf("the Go client's write or output is missing:\n%s", out)
	}
}

// TestDemoProgramsRefused: a client against a closed port sees connect
// fail with ECONNREFUSED beside its SYN and the RST that answers it; the
// demo says, in one line, that it exited with status 1 and what it
// printed.
func TestDemoProgramsRefused(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", cli+" 127.0.0.1 9")
	if err == nil {
		t.Fatalf("demo with a failing client exited 0:\n%s\n%s", out, errOut)
	}
	// The call is placed where it began, before the SYN it sent; the RST
	// that made it fail follows.
	assertOrder(t, out,
		`client connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`,
		"127.0.0.1:9  [SYN]", "127.0.0.1:9 → 127.0.0.1:", "[RST,ACK]")
	if !regexp.MustCompile(`client: \S+client exited with status 1; it printed on stderr: "connect: Connection refused"`).MatchString(errOut) {
		t.Errorf("no clear line about the client:\n%s", errOut)
	}
}

const crashClient = `#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(8080);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	connect(fd, (struct sockaddr *)&a, sizeof a);
	write(fd, "boom\n", 5);
	*(volatile int *)0 = 1;
	return 0;
}
`

// TestDemoProgramsCrash: a client killed by SIGSEGV: one line says so,
// and the segments (its write, then the FIN the kernel sends for it) are
// still shown.
func TestDemoProgramsCrash(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "crash", crashClient)
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", cli)
	if err == nil {
		t.Fatalf("demo with a crashing client exited 0:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(errOut, "killed by signal SIGSEGV") {
		t.Errorf("no line about the crash:\n%s", errOut)
	}
	assertOrder(t, out, `client write(3, "boom\n", 5) = 5`, "len 5", `server read(4, "boom\n", 1024) = 5`)
	// The kernel closes the dead client's socket: an RST, since the echo
	// it never read is still in its receive buffer.
	assertOrder(t, out, "client +++ killed by SIGSEGV +++", "[RST")
}

// TestDemoProgramsForkServer: a fork-per-client server with two clients
// (one after the other, from one shell): each child's calls are on its own
// connection, so each carries its own stream, and each process is named.
func TestDemoProgramsForkServer(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "forkserver", readExample(t, "forkserver.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", "sh -c '"+cli+" 127.0.0.1 8080; "+cli+" 127.0.0.1 8080'")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	if n := len(regexp.MustCompile(`server\[\d+\] accept\(3`).FindAllString(out, -1)); n != 2 {
		t.Errorf("%d accepts, want 2:\n%s", n, out)
	}
	for _, s := range []string{"stream 0", "stream 1"} {
		re := regexp.MustCompile(`server\[\d+\] read\(4, "hello, TCP\\n", 1024\) = 11.*` + s)
		if !re.MatchString(out) {
			t.Errorf("no child read on %s:\n%s", s, out)
		}
	}
	// The parent's close of its copy sends nothing: the child holds the
	// socket; the child's close sends the FIN.
	if n := len(regexp.MustCompile(`server\[\d+\] close\(4\) = 0  ▸ stream \d: 1 other descriptor \(after fork or dup\) still holds this socket: nothing is sent`).FindAllString(out, -1)); n != 2 {
		t.Errorf("%d parent closes say nothing is sent, want 2:\n%s", n, out)
	}
	if strings.Contains(errOut, "server:") {
		t.Errorf("stderr names a failure:\n%s", errOut)
	}
}

// TestDemoProgramsUID: the programs run as the invoking user under sudo
// (SUDO_UID/SUDO_GID, no supplementary groups), as nobody for root, and
// as root only with --as-root. The client prints its ids.
func TestDemoProgramsUID(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	client := `sh -c "id -u; id -G; grep CapEff /proc/self/status; exec ` + cli + ` 127.0.0.1 8080"`
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"root", nil, nil, "client stdout: 65534\n"},
		{"sudo", []string{"SUDO_UID=4321", "SUDO_GID=4322"}, nil, "client stdout: 4321\n"},
		{"as-root", nil, []string{"--as-root"}, "client stdout: 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testroot.Need(t)
			args := append([]string{"demo", "--color", "never", "-w", filepath.Join(exampleDir(t), "d.pcap"), "--server", srv + " 8080", "--client", client}, tc.args...)
			cmd := exec.Command(binary(t), args...)
			cmd.Env = append(os.Environ(), tc.env...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if err := cmd.Run(); err != nil {
				t.Fatalf("demo: %v\n%s\n%s", err, o.String(), e.String())
			}
			if !strings.Contains(o.String(), tc.want) {
				t.Errorf("the client's id is not %q:\n%s", tc.want, o.String())
			}
			if tc.name == "sudo" && !strings.Contains(o.String(), "client stdout: 4322\n") {
				t.Errorf("supplementary groups were not dropped (id -G should be 4322 only):\n%s", o.String())
			}
			if tc.name != "as-root" && !strings.Contains(o.String(), "client stdout: CapEff:\t0000000000000000\n") {
				t.Errorf("the program has capabilities:\n%s", o.String())
			}
		})
	}
}

// TestDemoProgramsFailures: each way a program can fail gets one line
// naming it and what it printed on stderr.
func TestDemoProgramsFailures(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	private, err := os.MkdirTemp("", "tcpscope-private-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(private)
	hidden := filepath.Join(private, "client")
	if b, err := exec.Command("cp", cli, hidden).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, b)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		// Against the reference server, which is stopped at once when the
		// client never connected (no waiting for a connection to come).
		{"refused by reference", []string{"--client", cli + " 127.0.0.1 9"},
			`client: ` + cli + ` exited with status 1; it printed on stderr: "connect: Connection refused"`},
		{"never listens", []string{"--timeout", "1s", "--server", "sh -c 'echo starting >&2; sleep 5'", "--client", cli + " 127.0.0.1 8080"},
			`server: sh did not call listen within 1s (--timeout): stopped it; it printed on stderr: "starting"`},
		{"server exits", []string{"--server", srv, "--client", cli + " 127.0.0.1 8080"},
			`server: ` + srv + ` exited with status 2 before it called listen; it printed on stderr: "usage: ` + srv + ` PORT"`},
		{"client hangs", []string{"--timeout", "1s", "--server", srv + " 8080", "--client", "sleep 5"},
			"client: sleep was still running after 1s (--timeout): stopped it"},
		{"never connects", []string{"--server", srv + " 8080", "--client", "true"},
			"client: true exited without calling connect"},
		{"cannot execute", []string{"--server", srv + " 8080", "--client", hidden + " 127.0.0.1 8080"},
			"client: program " + hidden + ": user nobody (uid 65534) cannot execute it (permission denied)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			binary(t) // built once, not timed
			start := time.Now()
			out, errOut, err := demoPrograms(t, tc.args...)
			if err == nil {
				t.Fatalf("exit 0:\n%s\n%s", out, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace:\n%s", errOut)
			}
			if time.Since(start) > 4*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}

// TestDemoProgramsUnprivileged: the demo as an ordinary user (setpriv to
// nobody) in its own user namespace: the programs run there as uid 0,
// which is that user outside, and the demo says so.
func TestDemoProgramsUnprivileged(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not installed")
	}
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	os.Chmod(dir, 0o777)
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "demo", "--color", "never",
		"-w", filepath.Join(dir, "u.pcap"), "--server", srv+" 8080", "--client", `sh -c "id -u; exec `+cli+` 127.0.0.1 8080"`)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if strings.Contains(errb.String(), "sudo") && strings.Count(strings.TrimSpace(errb.String()), "\n") == 0 {
			t.Skipf("user namespaces not allowed here; the demo said: %s", errb.String())
		}
		t.Fatalf("demo as nobody: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "uid 0 inside the demo's user namespace; that is your own user (uid 65534)") {
		t.Errorf("no note about uid 0 in the namespace:\n%s", errb.String())
	}
	assertLecture(t, out.String(),
		`client connect(3, {sa_family=AF_INET, sin_port=htons(8080)`, `server accept(3`,
		`client write(3, "hello, TCP\n", 11) = 11`, 11, `client close(3) = 0`)
	if !strings.Contains(out.String(), "client stdout: 0\n") {
		t.Errorf("the client does not see uid 0:\n%s", out.String())
	}
}

// TestDemoProgramsJSON: with --json, stdout holds only JSON lines (the
// traced calls as call objects among the segments); the programs' output
// lines go to stderr with everything else.
func TestDemoProgramsJSON(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	out, errOut, err := demoPrograms(t, "--json", "--server", srv+" 8080", "--client", cli+" 127.0.0.1 8080")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v struct {
			Call  string   `json:"call"`
			Side  string   `json:"side"`
			PID   int      `json:"pid"`
			Flags []string `json:"flags"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stdout line is not JSON: %v\n%s", err, line)
		}
		if v.Call != "" && (v.PID <= 0 || (v.Side != "client" && v.Side != "server")) {
			t.Errorf("a traced call without its pid or side: %s", line)
		}
		switch {
		case v.Call != "":
			order = append(order, v.Side+" "+v.Call)
		case len(v.Flags) == 1 && v.Flags[0] == "SYN":
			order = append(order, "SYN")
		}
	}
	// Only the causal order is fixed: the client may write before the
	// server's accept returns (the kernel completes the handshake on its
	// own), so the test checks precedence, not adjacency.
	got := strings.Join(order, ", ")
	want := []string{"server listen", "client socket", "client connect", "SYN", "server accept"}
	at := -1
	for _, w := range want {
		i := slices.Index(order[at+1:], w)
		if i < 0 {
			t.Errorf("calls and SYN out of order: %q not after %q in %s", w, order[max(at, 0)], got)
			break
		}
		at += 1 + i
	}
	if !strings.Contains(errOut, "client stdout: echo: hello, TCP") {
		t.Errorf("the client's output is not on stderr:\n%s", errOut)
	}
}

// TestDemoProgramsStep: --step pages the traced session too; a program's
// output line is a step of its own, named in the status line.
func TestDemoProgramsStep(t *testing.T) {
	testroot.Need(t)
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	cmd := fmt.Sprintf("%q demo --step --color never -w /dev/null --server %q --client %q; echo EXIT=$?; sleep 60",
		binary(t), srv+" 8080", cli+" 127.0.0.1 8080")
	keys, screen := tmuxSession(t, cmd)
	s := waitScreen(t, screen, "step 1/")
	if !strings.Contains(s, "server socket(") {
		t.Fatalf("first screen:\n%s", s)
	}
	total, _ := strconv.Atoi(regexp.MustCompile(`step 1/(\d+)`).FindStringSubmatch(s)[1])
	found := false
	for i := 2; i <= total && !found; i++ {
		keys("Enter")
		found = strings.Contains(waitScreen(t, screen, fmt.Sprintf("step %d/%d", i, total)), fmt.Sprintf("step %d/%d: server stdout", i, total))
	}
	if !found {
		t.Errorf("no step for the server's output line:\n%s", screen())
	}
	keys("q")
	if s := waitScreen(t, screen, "EXIT="); !strings.Contains(s, "EXIT=0") || !strings.Contains(s, "1 connection:") {
		t.Errorf("after q want exit 0 and the summary:\n%s", s)
	}
}

// TestDemoProgramsStdin: the client's stdin is empty unless --client-stdin
// names a file, which is opened with the student's rights: a file only
// root may read is refused in one line.
func TestDemoProgramsStdin(t *testing.T) {
	dir := exampleDir(t)
	srv := buildCSource(t, dir, "server", readExample(t, "server.c"))
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	client := `sh -c "read line; echo got:\$line; exec ` + cli + ` 127.0.0.1 8080"`
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", client)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "client stdout: got:\n") {
		t.Errorf("stdin is not empty by default:\n%s", out)
	}
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("from the file\n"), 0o644)
	out, errOut, err = demoPrograms(t, "--server", srv+" 8080", "--client", client, "--client-stdin", in)
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "client stdout: got:from the file\n") {
		t.Errorf("--client-stdin was not the client's stdin:\n%s", out)
	}
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("root only\n"), 0o600)
	_, errOut, err = demoPrograms(t, "--server", srv+" 8080", "--client", client, "--client-stdin", secret)
	if err == nil || !strings.Contains(errOut, "--client-stdin "+secret+": user nobody (uid 65534) cannot read it: permission denied") {
		t.Errorf("a root-only file was not refused (err %v):\n%s", err, errOut)
	}
}

const threadServer = `#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void *serve(void *arg) {
	int cfd = (int)(intptr_t)arg;
	char buf[1024];
	ssize_t n;
	while ((n = read(cfd, buf, sizeof buf)) > 0)
		write(cfd, buf, n);
	close(cfd);
	return NULL;
}
int main(int argc, char **argv) {
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(atoi(argv[1]));
	bind(lfd, (struct sockaddr *)&a, sizeof a);
	listen(lfd, 16);
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		pthread_t th;
		pthread_create(&th, NULL, serve, (void *)(intptr_t)cfd);
		pthread_detach(th);
	}
}
`

// TestDemoProgramsThreadServer: a thread-per-client server: one process,
// one descriptor table shared by its threads; each thread's calls are put
// in the stream of the connection their descriptor holds.
func TestDemoProgramsThreadServer(t *testing.T) {
	dir := exampleDir(t)
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("skipping: no C compiler (cc)")
	}
	src := filepath.Join(dir, "threadserver.c")
	os.WriteFile(src, []byte(threadServer), 0o644)
	srv := filepath.Join(dir, "threadserver")
	if b, err := exec.Command("cc", "-O2", "-pthread", "-o", srv, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, b)
	}
	cli := buildCSource(t, dir, "client", readExample(t, "client.c"))
	out, errOut, err := demoPrograms(t, "--server", srv+" 8080", "--client", "sh -c '"+cli+" 127.0.0.1 8080; "+cli+" 127.0.0.1 8080'")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out, errOut)
	}
	for _, s := range []string{"stream 0", "stream 1"} {
		re := regexp.MustCompile(`server read\(\d+, "hello, TCP\\n", 1024\) = 11  ▸ ` + s + `:`)
		if !re.MatchString(out) {
			t.Errorf("no server thread's read on %s:\n%s", s, out)
		}
	}
	if regexp.MustCompile(`server\[\d+\]`).MatchString(out) {
		t.Errorf("threads were named as processes:\n%s", out)
	}
}
