package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/render"
)

// screenCaptures are replayed at terminal widths: handshakes, loss, IPv6,
// a reset, a capture starting mid-connection, malformed options.
var screenCaptures = []string{"tcpdump-print-flags.pcap", "zeek-tcp-retransmit-fast009.pcap", "lo-ipv6-loss.pcap",
	"pcapplusplus-one_http_stream_rst.pcap", "zeek-tcp-missing-syn.pcap", "lo-zero-window.pcap", "zeek-tcp-truncated-header.pcap",
	"pcapplusplus-tcp-malformed.pcap"}

// maxWidth is the widest line of out in terminal columns.
func maxWidth(out string) (int, string) {
	w, widest := 0, ""
	for _, l := range strings.Split(out, "\n") {
		if n := render.Width(l); n > w {
			w, widest = n, l
		}
	}
	return w, widest
}

// TestReplayFitsWidth: on a terminal of 80 or 100 columns (the width
// injected as run finds it on a terminal), every line of replay's output
// fits, the note goes under the segment line, and nothing is lost: each
// segment line still has its frame, direction, flags and numbers.
func TestReplayFitsWidth(t *testing.T) {
	for _, width := range []int{80, 100} {
		for _, c := range screenCaptures {
			path := filepath.Join("../../pcaps", c)
			var out, errb bytes.Buffer
			code := runWith([]string{"tcpscope", "replay", "--color", "never", path}, nil, &out, &errb, func(e *env) { e.width, e.stderrWidth = width, width })
			if code != 0 {
				t.Fatalf("%s at %d columns: exit %d: %s", c, width, code, errb.String())
			}
			if w, l := maxWidth(out.String()); w > width {
				t.Errorf("%s at %d columns: a line of %d columns:\n%s", c, width, w, l)
			}
			var full bytes.Buffer
			run([]string{"tcpscope", "replay", "--color", "never", path}, nil, &full, &errb)
			// Frame, time, direction and flags on the segment's line; its
			// numbers on it or, when they do not fit, right under it.
			segs := regexp.MustCompile(`(?m)^#\d+ +\S+ +\S+ (→|->) \S+  \[[A-Z,a-z]+\](  |\n {8})seq \d+( ack \d+)? len \d+ win \d+`)
			if got, want := len(segs.FindAllString(out.String(), -1)), len(regexp.MustCompile(`(?m)^#\d`).FindAllString(full.String(), -1)); got != want {
				t.Errorf("%s at %d columns: %d complete segment lines, the full output has %d segments", c, width, got, want)
			}
			if strings.Contains(out.String(), "<mss") || strings.Contains(out.String(), "TS val") {
				t.Errorf("%s at %d columns: options shown in the compact layout", c, width)
			}
			// --wide: the full lines, as into a pipe.
			var wide bytes.Buffer
			runWith([]string{"tcpscope", "replay", "--color", "never", "--wide", path}, nil, &wide, &errb, func(e *env) { e.width = width })
			if wide.String() != full.String() {
				t.Errorf("%s: --wide on a terminal differs from the output into a pipe", c)
			}
		}
	}
}

// TestReplayASCII: --ascii, or a terminal whose locale is not UTF-8,
// spells → ▸ µ in ASCII.
func TestReplayASCII(t *testing.T) {
	path := filepath.Join("../../pcaps", "tcpdump-print-flags.pcap")
	check := func(name string, out string) {
		t.Helper()
		for _, r := range out {
			if r > 0x7e || r < 0x20 && r != '\n' {
				t.Fatalf("%s: non-ASCII %q in:\n%s", name, r, out)
			}
		}
		for _, w := range []string{" -> ", "  > handshake 1/3", "101 us", "client: SYN-SENT -> ESTABLISHED"} {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
	}
	var out, errb bytes.Buffer
	run([]string{"tcpscope", "replay", "--ascii", "--color", "never", path}, nil, &out, &errb)
	check("--ascii into a pipe", out.String())
	out.Reset()
	runWith([]string{"tcpscope", "replay", "--color", "never", path}, nil, &out, &errb, func(e *env) { e.width, e.asciiLocale = 100, true })
	check("locale without UTF-8 on a terminal", out.String())
	if w, l := maxWidth(out.String()); w > 100 {
		t.Errorf("ASCII at 100 columns: line of %d: %s", w, l)
	}
	// Every capture, with the header view (× ≥ §) and notes (≠ –): ASCII.
	for _, c := range screenCaptures {
		out.Reset()
		run([]string{"tcpscope", "replay", "--ascii", "--explain", "--color", "never", filepath.Join("../../pcaps", c)}, nil, &out, &errb)
		for _, r := range out.String() {
			if r > 0x7e {
				t.Fatalf("%s --ascii --explain: non-ASCII %q", c, r)
			}
		}
	}
}

func TestUTF8Locale(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "POSIX"}, false},
		{map[string]string{"LANG": "C", "LC_CTYPE": "de_DE.UTF-8"}, true},
		{map[string]string{"LC_ALL": "de_DE.ISO-8859-1", "LC_CTYPE": "de_DE.UTF-8"}, false},
	} {
		if got := utf8Locale(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: utf8Locale = %v, want %v", c.env, got, c.want)
		}
	}
}

// TestReplayPseudoTerminal runs the real binary on a pseudo-terminal
// (script(1)) with its window set to 80 and then 100 columns: every line
// fits, and with LANG=C the output is ASCII.
func TestReplayPseudoTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed (bsdutils)")
	}
	bin := binary(t)
	path, _ := filepath.Abs(filepath.Join("../../pcaps", "lo-ipv6-loss.pcap"))
	for _, width := range []string{"80", "100"} {
		cmd := exec.Command("script", "-qec", "stty cols "+width+" rows 50; "+bin+" replay "+path, "/dev/null")
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_CTYPE=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		text := strings.ReplaceAll(string(out), "\r", "")
		if !strings.Contains(text, "\x1b[") {
			t.Errorf("no colour on the terminal: is it one?")
		}
		w, l := maxWidth(text)
		if want := map[string]int{"80": 80, "100": 100}[width]; w > want {
			t.Errorf("%s columns: a line of %d columns: %q", width, w, l)
		}
		if w < 60 {
			t.Errorf("%s columns: widest line only %d columns: not the terminal's width?", width, w)
		}
		t.Logf("pty %s columns: widest line %d columns", width, w)
	}
	cmd := exec.Command("script", "-qec", "stty cols 80; "+bin+" replay --color never "+path, "/dev/null")
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=", "LC_CTYPE=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script: %v", err)
	}
	if strings.ContainsAny(string(out), "→▸µ") || !strings.Contains(string(out), " -> ") {
		t.Errorf("LANG=C terminal: output not in ASCII:\n%s", out)
	}
}

// TestDemoFitsWidth runs the demo on a pseudo-terminal of 80 and 100
// columns: every line fits (socket calls, notes, the summary, the messages
// on stderr), and the state changes caused by calls are on the call lines,
// not repeated on the segments.
func TestDemoFitsWidth(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed (bsdutils)")
	}
	bin := binary(t)
	for _, width := range []int{80, 100} {
		for _, args := range []string{"", "http", "--reset", "--slow-reader"} {
			pc := filepath.Join(t.TempDir(), "d.pcapng")
			cmd := exec.Command("script", "-qec", fmt.Sprintf("stty cols %d rows 50; %s demo %s -w %s", width, bin, args, pc), "/dev/null")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_CTYPE=")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("demo %s: %v\n%s", args, err, out)
			}
			text := strings.ReplaceAll(string(out), "\r", "")
			w, l := maxWidth(text)
			t.Logf("demo %s at %d columns: widest line %d columns", args, width, w)
			if w > width {
				t.Errorf("demo %s at %d columns: a line of %d columns: %q", args, width, w, l)
			}
			plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(text, "")
			// Wrapped lines joined again, for the phrases.
			plain = regexp.MustCompile(`\n {8,}`).ReplaceAllString(plain, " ")
			for _, want := range []string{"server: CLOSED → LISTEN", "client: CLOSED → SYN-SENT", "states at the end: client", "capture written to"} {
				if !strings.Contains(plain, want) {
					t.Errorf("demo %s at %d columns: no %q in:\n%s", args, width, want, plain)
				}
			}
			if n := strings.Count(plain, "CLOSED → SYN-SENT"); n != 1 {
				t.Errorf("demo %s: CLOSED → SYN-SENT said %d times, want once (on connect)", args, n)
			}
		}
	}
}

// TestReplayStates: replay names each end's state changes in the notes and
// its final state in the summary, for any capture; where the capture
// starts mid-connection, the states before it are marked inferred.
func TestReplayStates(t *testing.T) {
	for _, c := range []struct {
		pcap string
		want []string
	}{
		{"tcpdump-print-flags.pcap", []string{
			"client asks to connect (ISN 928549246, MSS 16396, wscale 2, SACK ok); client: CLOSED → SYN-SENT\n",
			"; server: LISTEN → SYN-RECEIVED; client: SYN-SENT → ESTABLISHED\n",
			"client: ESTABLISHED → FIN-WAIT-1; server: ESTABLISHED → CLOSE-WAIT\n",
			"server: CLOSE-WAIT → LAST-ACK; client: FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT\n",
			"states at the end: client TIME-WAIT, server CLOSED\n"}},
		{"zeek-tcp-missing-syn.pcap", []string{
			"server: LISTEN (inferred) → SYN-RECEIVED; client: SYN-SENT (inferred) → ESTABLISHED",
			"(inferred: the capture starts mid-connection)"}},
		{"zeek-redis-pubsub.pcap", []string{
			"states at the end: client ESTABLISHED, server ESTABLISHED (inferred: the capture starts mid-connection)"}},
		{"pcapplusplus-one_http_stream_rst.pcap", []string{
			"client: CLOSE-WAIT → CLOSED; server: FIN-WAIT-2 → CLOSED\n"}},
	} {
		var out, errb bytes.Buffer
		if code := run([]string{"tcpscope", "replay", "--color", "never", filepath.Join("../../pcaps", c.pcap)}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.pcap, code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: no %q in:\n%s", c.pcap, w, out.String())
			}
		}
	}
}

// TestCaptureFitsWidth: a live capture on a terminal of 80 columns lays its
// lines out as replay does (compact, notes under the segment, states).
func TestCaptureFitsWidth(t *testing.T) {
	testroot.Need(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed (bsdutils)")
	}
	port := 30000 + os.Getpid()%20000
	py := fmt.Sprintf(`import socket,time
s=socket.socket(); s.bind(("127.0.0.1",%d)); s.listen()
time.sleep(0.3)
c=socket.create_connection(("127.0.0.1",%d)); a,_=s.accept(); c.sendall(b"hello"); a.recv(5); c.close(); a.close(); time.sleep(0.2)`, port, port)
	script := filepath.Join(t.TempDir(), "peer.py")
	if err := os.WriteFile(script, []byte(py), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("script", "-qec", fmt.Sprintf("stty cols 80 rows 50; %s capture -i lo --run 'python3 %s' tcp port %d", binary(t), script, port), "/dev/null")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_CTYPE=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("capture: %v\n%s", err, out)
	}
	text := strings.ReplaceAll(string(out), "\r", "")
	if w, l := maxWidth(text); w > 80 {
		t.Errorf("a line of %d columns: %q", w, l)
	}
	plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(text, "")
	for _, want := range []string{fmt.Sprintf("→ %d  [SYN]  seq 0 len 0 win", port), "\n        ▸ handshake 1/3", "client: CLOSED → SYN-SENT"} {
		if !strings.Contains(plain, want) {
			t.Errorf("no %q in:\n%s", want, plain)
		}
	}
}
