package render

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
)

// TestAppendOptionsShortcut: the shortcut for NOP, NOP, timestamps writes
// what walking the options writes, for random values, and for headers
// that only nearly have that layout.
func TestAppendOptionsShortcut(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	taken := 0
	for n := 0; n < 2000; n++ {
		b := make([]byte, 32+r.IntN(2)*100)
		b[12] = 8 << 4
		copy(b[20:], []byte{1, 1, 8, 10})
		for i := 24; i < 32; i++ {
			b[i] = byte(r.Uint32())
		}
		if n%2 == 1 {
			b[20+r.IntN(4)] = byte(r.IntN(12)) // another option layout
		}
		p := &decode.Packet{}
		p.TCP = decode.TCP(b)
		got, want := string(appendOptions(nil, p, 0)), string(appendOptionsWalk(nil, p, 0))
		if got != want {
			t.Fatalf("% x: %q, the walk gives %q", b[20:32], got, want)
		}
		if strings.HasPrefix(got, "nop,nop,TS val ") {
			taken++
		}
	}
	if taken < 1000 {
		t.Errorf("the common layout seen %d times of 2000", taken)
	}
}
