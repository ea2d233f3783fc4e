package decode

import (
	"math/rand/v2"
	"testing"
)

// FuzzParseOptionsShortcut: on any header, ParseOptions (with its shortcut
// for NOP, NOP, timestamps) gives what walking every option gives.
func FuzzParseOptionsShortcut(f *testing.F) {
	ts := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8 << 4, 0x10, 0, 0, 0, 0, 0, 0, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8}
	f.Add(ts)
	f.Add(append(ts, 0xde, 0xad))                                                                                                      // with payload
	f.Add(append([]byte(nil), ts[:31]...))                                                                                             // cut by the snaplen
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 << 4, 0x10, 0, 0, 0, 0, 0, 0, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}) // 36-byte header
	f.Fuzz(func(t *testing.T, b []byte) {
		tc, _ := ParseTCP(b)
		if tc == nil {
			return
		}
		var fast, walk Options
		ParseOptions(tc, &fast)
		parseOptionsWalk(tc, &walk)
		if fast != walk {
			t.Fatalf("shortcut %+v\nwalk     %+v", fast, walk)
		}
	})
}

// TestParseOptionsShortcut: random timestamps in the common layout, with
// and without payload, and every one-byte change of its option bytes, give
// the walk's result.
func TestParseOptionsShortcut(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 1000; n++ {
		b := make([]byte, 32+r.IntN(3)*700)
		b[12] = 8 << 4
		copy(b[20:], []byte{1, 1, 8, 10})
		for i := 24; i < 32; i++ {
			b[i] = byte(r.Uint32())
		}
		if n%2 == 1 {
			b[20+r.IntN(12)] = byte(r.Uint32()) // anything: the walk decides
		}
		var fast, walk Options
		ParseOptions(TCP(b), &fast)
		parseOptionsWalk(TCP(b), &walk)
		if fast != walk {
			t.Fatalf("% x:\nshortcut %+v\nwalk     %+v", b[20:32], fast, walk)
		}
	}
}
