package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestAbsoluteChangesOnlySequenceNumbers: replay -S prints the raw sequence
// and acknowledgment numbers; everything else on each line, the scaled
// window included, is the same as without it. lo-zero-window.pcap has a
// window scale of 10 on the client side, so an unscaled window would show.
func TestAbsoluteChangesOnlySequenceNumbers(t *testing.T) {
	replayOut := func(args ...string) []string {
		var out, errb bytes.Buffer
		args = append([]string{"tcpscope", "replay", "--color", "never", "--no-summary", "../../pcaps/lo-zero-window.pcap"}, args...)
		if code := run(args, nil, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return strings.Split(strings.TrimSpace(out.String()), "\n")
	}
	rel, abs := replayOut(), replayOut("-S")
	if len(rel) != len(abs) || len(rel) < 10 {
		t.Fatalf("-S printed %d lines, without it %d", len(abs), len(rel))
	}
	nums := regexp.MustCompile(`  seq \d+( ack \d+)?`)
	differ := 0
	for i := range rel {
		if rel[i] != abs[i] {
			differ++
		}
		r, a := nums.ReplaceAllString(rel[i], "  seq N ack N"), nums.ReplaceAllString(abs[i], "  seq N ack N")
		if r != a {
			t.Errorf("line %d differs beyond seq/ack:\n  without -S: %s\n  with -S:    %s", i+1, rel[i], abs[i])
		}
	}
	if differ == 0 {
		t.Error("-S changed no line")
	}
}
