package pipeline

import (
	"testing"

	"github.com/tcpscope/tcpscope/decode"
)

// TestSkipsLine: what decode could not follow is said in one line, with
// counts per reason and the first frame of each.
func TestSkipsLine(t *testing.T) {
	var s Skips
	if got := s.Line(); got != "" {
		t.Fatalf("nothing skipped, line %q", got)
	}
	var p decode.Packet
	s.Add(1, &p) // not skipped
	p.Skipped = decode.SkipEncrypted
	s.Add(4, &p)
	s.Add(9, &p)
	p.Skipped = decode.SkipTooDeep
	s.Add(12, &p)
	want := "3 frames not decoded to TCP: 1 tunnels nested deeper than 8 levels (first: frame 12); 2 IPsec ESP packets (encrypted) (first: frame 4)"
	if got := s.Line(); got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
}
