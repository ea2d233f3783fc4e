package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/replay/badfile"
)

// TestReplayBadFiles runs every damaged or hostile file of the badfile
// table through the command line: what is readable is printed, then the
// last line of stderr names the file, the frame and the byte offset of the
// fault and the exit code is 1 (exitError); a readable oddity (zero-length
// or snaplen-truncated records, timestamps going backwards, unknown pcapng
// blocks) exits 0. Never a stack trace.
func TestReplayBadFiles(t *testing.T) {
	dir := t.TempDir()
	codes := map[int]int{}
	for _, tc := range badfile.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.Name, " ", "-")+".cap")
			if err := os.WriteFile(path, tc.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"replay", "--no-summary", path}, {"replay", "--json", "--no-summary", path}} {
				var out, errb bytes.Buffer
				code := run(append([]string{"tcpscope"}, args...), nil, &out, &errb)
				codes[code]++
				stderr := errb.String()
				if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
					t.Fatalf("%v: stack trace:\n%s", args, stderr)
				}
				if tc.Err == "" {
					// --json reports a frame it cannot decode (the zero-length
					// record) on stderr and goes on; nothing else may appear.
					if code != exitOK || strings.Count(stderr, "\n") > 1 || (stderr != "" && !strings.Contains(stderr, ": frame 2: ethernet")) {
						t.Errorf("%v: exit %d, stderr %q; want 0 and at most a frame note", args, code, stderr)
					}
				} else {
					if code != exitError {
						t.Errorf("%v: exit %d, want %d", args, code, exitError)
					}
					lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
					last := lines[len(lines)-1]
					want := []string{"tcpscope: " + path + ": ", tc.Err}
					if !tc.OpenErr {
						want = append(want, fmt.Sprintf("frame %d: ", tc.Frame), fmt.Sprintf("byte %d", tc.Offset))
					}
					for _, w := range want {
						if !strings.Contains(last, w) {
							t.Errorf("%v: last stderr line %q lacks %q", args, last, w)
						}
					}
				}
				// Everything readable before the fault is shown: one line per
				// frame carrying TCP; the zero-length record carries none,
				// and gets a line of its own (its problem) in text only.
				shown := strings.Count(out.String(), "\n")
				want := tc.Frames
				if tc.Name == "zero-length record" && args[1] == "--json" {
					want--
				}
				if shown != want {
					t.Errorf("%v: %d lines on stdout, want %d:\n%s", args, shown, want, out.String())
				}
			}
		})
	}
	t.Logf("%d bad-file cases × text and JSON: exit codes %v", len(badfile.Cases()), codes)
}
