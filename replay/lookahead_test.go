//go:build linux || darwin || freebsd || netbsd || openbsd

package replay

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
)

// TestLookAheadFollowsRecords: the look-ahead cursor of a reader of heads
// (lookAhead) always stands on a record's header, lookAheadRecords records
// ahead of the next one to read once it has caught up (less only at the
// end of the window or of the file): a cursor that slipped off the chain
// of records would ask for the wrong bytes, which no output would show.
// Records of many sizes, in small and large batches, over several windows.
func TestLookAheadFollowsRecords(t *testing.T) {
	var b bytes.Buffer
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	var offs []int64 // each record's file offset
	for i := 0; i < 20000; i++ {
		offs = append(offs, int64(b.Len()))
		appendFrames(&b, i, 1, 60+(i*7919)%1500)
	}
	path := filepath.Join(t.TempDir(), "sizes.pcap")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, ok := f.Source.(*pcapReader)
	if !ok || p.m == nil {
		t.Fatalf("%T is not a mapped pcap reader", f.Source)
	}
	index := map[int64]int{}
	for i, o := range offs {
		index[o] = i
	}
	index[int64(b.Len())] = len(offs) // the end of the file, past the last record
	var buf []byte
	read, full, batches := 0, 0, 0
	for n := 1; read < len(offs); n = n%37 + 1 {
		k, nb, err := f.NextHeads(buf[:0], 192, false, make([]frame.Frame, n))
		buf = nb
		if err != nil {
			t.Fatalf("after %d frames: %v", read, err)
		}
		read += k
		batches++
		if read == len(offs) {
			break
		}
		if p.off != offs[read] {
			t.Fatalf("after %d frames the reader is at byte %d, want %d", read, p.off, offs[read])
		}
		i, on := index[p.ahead]
		switch {
		case !on:
			t.Fatalf("after %d frames the cursor is at byte %d, on no record", read, p.ahead)
		case i != p.aheadAt:
			t.Fatalf("after %d frames the cursor is on record %d, counted %d", read, i, p.aheadAt)
		case i-read > lookAheadRecords:
			t.Fatalf("after %d frames the cursor is %d records ahead", read, i-read)
		case i-read == lookAheadRecords:
			full++
		}
	}
	// Mostly as far ahead as it should be (not at the start, nor where a
	// window ends).
	if full*10 < batches*9 {
		t.Errorf("the cursor was %d records ahead after only %d of %d batches", lookAheadRecords, full, batches)
	}
}
