package replay

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"testing"
)

// TestResumeAtOffset reads every frame of a pcap and a pcapng file, then
// reads each again by resuming a second reader at the frame's LastOffset:
// the same bytes, time and number, as tcpscope view reads frames.
func TestResumeAtOffset(t *testing.T) {
	for _, name := range []string{"../pcaps/lo-bulk-loss.pcap", "../pcaps/lo-mixed.pcapng", "../pcaps/pcapplusplus-many_interfaces-1.pcapng"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		src, err := NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		pos := src.(Positioned)
		var offs []int64
		var datas [][]byte
		for {
			fr, err := pos.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			offs = append(offs, pos.LastOffset())
			datas = append(datas, bytes.Clone(fr.Data))
		}
		g, _ := os.Open(name)
		defer g.Close()
		src2, err := NewReader(g)
		if err != nil {
			t.Fatal(err)
		}
		again := src2.(Positioned)
		if _, err := again.Next(); err != nil { // learns the interfaces
			t.Fatal(err)
		}
		for _, i := range []int{len(offs) - 1, 0, len(offs) / 2, len(offs) / 3} {
			again.Resume(bufio.NewReader(io.NewSectionReader(g, offs[i], 1<<40)), offs[i], i+1)
			fr, err := again.Next()
			if err != nil {
				t.Fatalf("%s: frame %d at %d: %v", name, i+1, offs[i], err)
			}
			if fr.Meta.Number != i+1 || !bytes.Equal(fr.Data, datas[i]) {
				t.Errorf("%s: frame %d at offset %d read again as #%d with other bytes", name, i+1, offs[i], fr.Meta.Number)
			}
		}
	}
}
