package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/replay"
)

const flagsPcap = "../../pcaps/tcpdump-print-flags.pcap"

// tcpdumpLines runs tcpdump on the capture and returns its lines; the test
// is skipped where tcpdump is missing (./dev test installs it).
func tcpdumpLines(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	out, err := exec.Command("tcpdump", append([]string{"-nr", flagsPcap}, args...)...).Output()
	if err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// segLines returns replay's segment lines (those starting with #N).
func segLines(out string) []string {
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if strings.HasPrefix(s, "#") {
			l = append(l, s)
		}
	}
	return l
}

// TestTcpdumpReadFlag: -r FILE names the capture; every argument is then
// filter; -n and -nn change nothing.
func TestTcpdumpReadFlag(t *testing.T) {
	want, _, _ := runCLI(t, nil, "replay", flagsPcap, "tcp[13] & 1 != 0")
	for _, args := range [][]string{
		{"replay", "-r", flagsPcap, "tcp[13] & 1 != 0"},
		{"replay", "-n", "-r", flagsPcap, "tcp[13]", "&", "1", "!=", "0"},
		{"replay", "-nn", "-r" + flagsPcap, "tcp[13] & 1 != 0"},
	} {
		got, errs, code := runCLI(t, nil, args...)
		if code != 0 || got != want {
			t.Errorf("%q: exit %d (%s), output differs:\n%s\nwant\n%s", args, code, errs, got, want)
		}
	}
}

// TestTcpdumpTimeFlags: -t … -ttttt write the time column as tcpdump does
// (tcpdump is the oracle for the values; its -ttt writes h:mm:ss.us where
// tcpscope writes seconds).
func TestTcpdumpTimeFlags(t *testing.T) {
	field := func(line string, i int) string { return strings.Fields(line)[i] }
	out, _, _ := runCLI(t, nil, "replay", flagsPcap, "-tt", "--no-summary")
	td := tcpdumpLines(t, "-tt")
	got := segLines(out)
	if len(got) != len(td) {
		t.Fatalf("%d lines, tcpdump %d", len(got), len(td))
	}
	for i := range got {
		if field(got[i], 1) != field(td[i], 0) {
			t.Errorf("-tt line %d: %q, tcpdump %q", i+1, field(got[i], 1), field(td[i], 0))
		}
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-ttt", "--no-summary")
	got = segLines(out)
	for i, l := range tcpdumpLines(t, "-ttt") {
		// tcpdump: " 00:00:01.288315"
		hms := strings.Split(field(l, 0), ":")
		h, _ := strconv.Atoi(hms[0])
		m, _ := strconv.Atoi(hms[1])
		s, _ := strconv.ParseFloat(hms[2], 64)
		want := strconv.FormatFloat(float64(h*3600+m*60)+s, 'f', 6, 64)
		if field(got[i], 1) != want {
			t.Errorf("-ttt line %d: %q, tcpdump %q", i+1, field(got[i], 1), want)
		}
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-tttt", "--no-summary")
	got = segLines(out)
	for i, l := range tcpdumpLines(t, "-tttt") { // local time, as tcpscope
		if w := field(l, 0) + " " + field(l, 1); field(got[i], 1)+" "+field(got[i], 2) != w {
			t.Errorf("-tttt line %d: %q, tcpdump %q", i+1, got[i], w)
		}
	}
	def, _, _ := runCLI(t, nil, "replay", flagsPcap, "--no-summary")
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-ttttt", "--no-summary")
	if out != def {
		t.Error("-ttttt differs from the default (time since the first frame)")
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-t", "--no-summary")
	if l := segLines(out)[0]; !strings.HasPrefix(l, "#1      127.0.0.1:55920") {
		t.Errorf("-t: %q, want no time column", l)
	}
}

// TestTcpdumpPayloadFlags: -X shows the payload's bytes (the tail of what
// tcpdump -X dumps from the IP header), -A its text, -v the IP fields, -e
// the link header as tcpdump -e names it.
func TestTcpdumpPayloadFlags(t *testing.T) {
	hexOf := func(lines []string) string {
		var b strings.Builder
		re := regexp.MustCompile(`^\s+0x[0-9a-f]{4}:\s+((?:[0-9a-f]{2,4} ?)+)`)
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				b.WriteString(strings.ReplaceAll(m[1], " ", ""))
			}
		}
		return b.String()
	}
	out, _, _ := runCLI(t, nil, "replay", flagsPcap, "-X", "--frames", "4", "--no-summary")
	ours := hexOf(strings.Split(out, "\n"))
	theirs := hexOf(tcpdumpLines(t, "-X", "-c", "4"))
	if len(ours) != 2*202 || !strings.HasSuffix(theirs, ours) {
		t.Errorf("-X: %d hex digits, not the tail of tcpdump's dump:\n%s", len(ours), out)
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-A", "--frames", "4", "--no-summary")
	if !strings.Contains(out, "\nGET / HTTP/1.1\nHost: localhost\n") {
		t.Errorf("-A: %q", out)
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-v", "--frames", "1", "--no-summary")
	if !strings.Contains(out, "IPv4 ttl 64, id 7016, length 60, DF; TCP checksum ok, options <mss 16396") {
		t.Errorf("-v: %q", out)
	}
	out, _, _ = runCLI(t, nil, "replay", flagsPcap, "-e", "--frames", "1", "--no-summary")
	td := tcpdumpLines(t, "-e", "-c", "1")[0] // "… 00:00:00:00:00:00 > 00:00:00:00:00:00, ethertype IPv4 (0x0800), length 74: …"
	want := strings.Join(strings.Fields(td)[1:], " ")
	want = strings.Replace(want[:strings.Index(want, ": ")], " > ", " → ", 1)
	if !strings.Contains(out, "link: "+want) {
		t.Errorf("-e: %q, want %q", out, want)
	}
	if _, errs, code := runCLI(t, nil, "replay", flagsPcap, "-X", "--json"); code != exitUsage {
		t.Errorf("-X --json: exit %d %s", code, errs)
	}
}

// TestCaptureToStdout: capture -w - writes a pcap to stdout (what
// "| wireshark -k -i -" reads) and the lines to stderr; it creates no file
// named "-". -B is in KiB, as tcpdump's.
func TestCaptureToStdout(t *testing.T) {
	testroot.Need(t)
	dir := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	ln, port := listenLoopback(t)
	defer ln.Close()
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run([]string{"tcpscope", "capture", "-w", "-", "-B", "4096", "-c", "3", "tcp", "port", strconv.Itoa(port)}, nil, &out, &errb)
	}()
	time.Sleep(300 * time.Millisecond)
	dialOnce(t, port)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("capture did not stop after 3 segments")
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("a file named - was created")
	}
	f, err := replay.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("stdout is not a capture: %v", err)
	}
	n := 0
	for {
		if _, err := f.Next(); err != nil {
			break
		}
		n++
	}
	if n < 3 || len(segLines(errb.String())) != 3 {
		t.Errorf("%d frames on stdout, stderr %q", n, errb.String())
	}
	_ = capture.DefaultBufferSize
}

// listenLoopback listens on a free 127.0.0.1 port and accepts (and closes)
// connections until closed.
func listenLoopback(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// dialOnce opens and closes one connection to the port: at least the
// three segments of the handshake.
func dialOnce(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
}
