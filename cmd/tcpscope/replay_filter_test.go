package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// framesShown lists the frame numbers at the start of replay's lines.
func framesShown(out string) string {
	var nums []string
	for _, m := range regexp.MustCompile(`(?m)^#(\d+) `).FindAllStringSubmatch(out, -1) {
		nums = append(nums, m[1])
	}
	return strings.Join(nums, ",")
}

// TestReplayFilter: a tcpdump expression after the file, as one argument or
// several, selects the frames tcpdump selects (testdata of replay/bpf:
// frames 8,9 are the FIN segments), keeping their numbers; flags may follow.
func TestReplayFilter(t *testing.T) {
	f := "../../pcaps/tcpdump-print-flags.pcap"
	for _, args := range [][]string{
		{"tcpscope", "replay", f, "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", "--no-summary"},
		{"tcpscope", "replay", "--no-summary", f, "tcp[tcpflags]", "&", "(tcp-fin|tcp-rst)", "!=", "0"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		if got := framesShown(out.String()); got != "8,9" {
			t.Errorf("%q: frames %s, want 8,9", args, got)
		}
	}
}

// TestReplayFilterStdin: the filter works on a capture read from a pipe.
func TestReplayFilterStdin(t *testing.T) {
	data, err := os.ReadFile("../../pcaps/tcpdump-print-flags.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"tcpscope", "replay", "-", "tcp", "and", "greater", "100", "--no-summary"}, bytes.NewReader(data), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got := framesShown(out.String()); got != "4,6" {
		t.Errorf("frames %s, want 4,6 (as tcpdump)", got)
	}
}

func TestReplayBadFilter(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"tcpscope", "replay", "../../pcaps/tcpdump-print-flags.pcap", "tcp", "port", "eighty"}, nil, &out, &errb)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errb.String())
	}
	msg := strings.TrimSpace(errb.String())
	if !strings.Contains(msg, `bad filter expression "tcp port eighty"`) || strings.Contains(msg, "\n") || out.Len() != 0 {
		t.Errorf("want one line naming the expression and no output; got %q, stdout %q", msg, out.String())
	}
}
