package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/capture"
)

// TestReplayMerge: a capture split into two files (alternate frames, as a
// capture on two interfaces would be) and one cut in time (as a rotated
// capture) replays, given both files or a glob, exactly as the original:
// same frame numbers, same streams, same analysis.
func TestReplayMerge(t *testing.T) {
	in := "../../pcaps/zeek-tcp-retransmit-fast009.pcap"
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	frames := framesOf(t, strings.NewReader(string(data)))
	dir := t.TempDir()
	write := func(name string, keep func(i int) bool) string {
		p := filepath.Join(dir, name)
		w, err := capture.Create(p, frames[0].Meta.Link, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range frames {
			if keep(i) {
				if err := w.Write(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want, _, code := runCLI(t, nil, "replay", in, "--json")
	if code != 0 {
		t.Fatal("replay failed")
	}
	odd := write("odd.pcap", func(i int) bool { return i%2 == 1 })
	even := write("even.pcap", func(i int) bool { return i%2 == 0 })
	half := len(frames) / 2
	late := write("rot-2.pcap", func(i int) bool { return i >= half })
	early := write("rot-1.pcap", func(i int) bool { return i < half })
	for _, args := range [][]string{
		{"replay", odd, even, "--json"},
		{"replay", late, early, "--json"},
		{"replay", filepath.Join(dir, "rot-*.pcap"), "--json"},
	} {
		got, errs, code := runCLI(t, nil, args...)
		if code != 0 || got != want {
			t.Errorf("%q: exit %d (%s); output differs from the single file's", args, code, errs)
		}
	}
	// Files, then a filter.
	got, errs, code := runCLI(t, nil, "replay", odd, even, "tcp[13] & 8 != 0", "--no-summary")
	single, _, _ := runCLI(t, nil, "replay", in, "tcp[13] & 8 != 0", "--no-summary")
	if code != 0 || got != single {
		t.Errorf("merged with a filter: exit %d (%s)\n%s\nwant\n%s", code, errs, got, single)
	}
}
