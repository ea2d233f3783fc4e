package render

import (
	"encoding/binary"
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

// TestTSTexts: the per-flow table of timestamp texts writes what walking
// the options writes, for segments of many flows sharing slots, with
// timestamps that repeat, change in one of the two values, or change
// only in a byte the text does not start with, and for other layouts
// passing through.
func TestTSTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var c tsTexts
	hits := 0
	vals := []uint32{0, 7, 99, 4294967295, 570108087, 570108088, 1917150808, 1 << 24, 1 << 8}
	last := map[[2]byte][2]uint32{} // each flow's timestamps: mostly repeated
	for n := 0; n < 20000; n++ {
		b := make([]byte, 32)
		b[12] = 8 << 4
		// 600 flows on 64 slots: many share one.
		b[0], b[1], b[2], b[3] = 0x80, byte(r.IntN(200)), 0x84, byte(r.IntN(3))
		copy(b[20:], []byte{1, 1, 8, 10})
		flow := [2]byte{b[1], b[3]}
		ts, seen := last[flow]
		if !seen || r.IntN(4) == 0 {
			// New values, sometimes only one of the two.
			if !seen || r.IntN(2) == 0 {
				ts[0] = vals[r.IntN(len(vals))]
			}
			ts[1] = vals[r.IntN(len(vals))]
			last[flow] = ts
		}
		binary.BigEndian.PutUint32(b[24:], ts[0])
		binary.BigEndian.PutUint32(b[28:], ts[1])
		if r.IntN(10) == 0 {
			b[20+r.IntN(4)] = byte(r.IntN(12)) // another layout
		}
		p := &decode.Packet{}
		p.TCP = decode.TCP(b)
		before := c
		got := string(c.appendOptions([]byte("x"), p, 0))
		want := "x" + string(appendOptionsWalk(nil, p, 0))
		if got != want {
			t.Fatalf("segment %d (% x): %q, the walk gives %q", n, b[:32], got, want)
		}
		if c == before && isNopNopTS(p.TCP) {
			hits++ // the text came from the table
		}
	}
	if hits < 1000 {
		t.Errorf("%d of 20000 segments took their text from the table", hits)
	}
}

// TestFlagSetsSameAsWalk: the flag sets written whole are what the loop
// over the bits writes, in both orders (text and JSON), for every byte.
func TestFlagSetsSameAsWalk(t *testing.T) {
	for f := 0; f < 256; f++ {
		if got, want := string(appendFlagNames([]byte("["), uint8(f))), string(appendFlagNamesWalk([]byte("["), uint8(f))); got != want {
			t.Errorf("appendFlagNames(%#02x) = %q, the walk gives %q", f, got, want)
		}
		if got, want := string(appendFlags(nil, uint8(f))), string(appendFlagsWalk(nil, uint8(f))); got != want {
			t.Errorf("appendFlags(%#02x) = %q, the walk gives %q", f, got, want)
		}
	}
}

// TestPadTo: padding to widths below, at and beyond the run of spaces
// appended at once, and none when the text is already as wide.
func TestPadTo(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
	}{{"", 0}, {"#1", 6}, {"0.000001", 10}, {"abc", 3}, {"abcdef", 3}, {"x", 16}, {"x", 17}, {"", 40}} {
		want := tc.text
		for len(want) < tc.n {
			want += " "
		}
		if got := string(padTo([]byte(">"+tc.text), 1, tc.n)); got != ">"+want {
			t.Errorf("padTo(%q, %d) = %q, want %q", tc.text, tc.n, got, ">"+want)
		}
	}
}
