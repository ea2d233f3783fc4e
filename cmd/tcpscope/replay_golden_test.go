package main

import (
	"bytes"
	"flag"
	goldenfile "github.com/tcpscope/tcpscope/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

// TestReplayGolden pins the text and JSON output for a few captures, colour off.
func TestReplayGolden(t *testing.T) {
	for _, c := range []string{"tcpdump-print-flags.pcap", "zeek-tcp-retransmit-fast009.pcap", "pcapplusplus-one_http_stream_rst.pcap", "lo-zero-window.pcap", "zeek-tcp-truncated-header.pcap"} {
		path := filepath.Join("../../pcaps", c)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("capture missing: %v", err)
		}
		for _, mode := range []string{"text", "json"} {
			args := []string{"tcpscope", "replay", path, "--color", "never"}
			if mode == "json" {
				args = append(args, "--json")
			}
			var out, errb bytes.Buffer
			if code := run(args, nil, &out, &errb); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errb.String())
			}
			golden(t, c+"."+mode+".golden", out.Bytes())
		}
	}
}

// TestReplayEveryCapture: every shipped capture either prints its segments
// and exits 0, or prints what it could and one line naming the file and the
// problem, exit 1. Never a panic or a stack trace.
func TestReplayEveryCapture(t *testing.T) {
	files, _ := filepath.Glob("../../pcaps/*.pcap*")
	if len(files) < 60 {
		t.Fatalf("only %d captures found", len(files))
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		code := run([]string{"tcpscope", "replay", "--json", f}, nil, &out, &errb)
		e := errb.String()
		if strings.Contains(e, "goroutine") || strings.Contains(e, "panic") {
			t.Fatalf("%s: stack trace:\n%s", f, e)
		}
		switch code {
		case 0:
			if out.Len() == 0 && !strings.Contains(f, "be-test202") {
				t.Errorf("%s: exit 0 but no segments", f)
			}
		case 1:
			lines := strings.Split(strings.TrimSpace(e), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "tcpscope: "+f+": ") {
				t.Errorf("%s: error line %q does not name the file", f, last)
			}
		default:
			t.Errorf("%s: exit code %d", f, code)
		}
	}
}

// TestFlagsAfterFile: flags work before or after the file, as with tcpdump.
func TestFlagsAfterFile(t *testing.T) {
	f := "../../pcaps/tcpdump-print-flags.pcap"
	var a, b, errb bytes.Buffer
	if run([]string{"tcpscope", "replay", "--json", "-c", "3", f}, nil, &a, &errb) != 0 ||
		run([]string{"tcpscope", "replay", f, "--json", "-c", "3"}, nil, &b, &errb) != 0 {
		t.Fatalf("replay failed: %s", errb.String())
	}
	if a.String() != b.String() || strings.Count(a.String(), "\n") != 3 {
		t.Errorf("flag order changes the output:\n%s\nvs\n%s", a.String(), b.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"tcpscope", "replay"},
		{"tcpscope", "replay", "--color", "purple", "x.pcap"},
		{"tcpscope", "replay", "--frames", "9-3", "x.pcap"},
		{"tcpscope", "replay", "--no-such-flag", "x.pcap"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
		if strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 && !strings.Contains(errb.String(), "USAGE") {
			t.Errorf("%v: more than one line: %q", args, errb.String())
		}
	}
}

// TestReplayExplain: --explain puts decode's field view under each line.
func TestReplayExplain(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "replay", "../../pcaps/tcpdump-print-flags.pcap", "--explain", "-c", "2", "--color", "never", "--no-summary"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, w := range []string{"#1 ", "#2 ", "ntohs(da 70) = 55920", "ntohl(37 58 89 7e) = 928549246", "Source Port"} {
		if !strings.Contains(s, w) {
			t.Errorf("replay --explain lacks %q", w)
		}
	}
}
