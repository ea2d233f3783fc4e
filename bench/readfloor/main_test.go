//go:build linux

package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"
	"github.com/tcpscope/tcpscope/internal/inetsum"
)

// TestWalkAgreesWithPcapgo walks every shipped pcap file and checks the
// records, captured bytes and sum (of all bytes, and of each record's
// first 192) against gopacket's pcapgo reader (its
// own, independent parsing of the same format), and a file cut inside a
// record against what pcapgo read before the cut.
func TestWalkAgreesWithPcapgo(t *testing.T) {
	names, _ := filepath.Glob("../../pcaps/*.pcap")
	walked := 0
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			f.Close()
			continue // files meant to be refused: walk must refuse them too
		}
		var n, bytes int64
		var sum, sum192 uint64
		for {
			data, _, err := r.ReadPacketData()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					n = -1 // a damaged file: compared below only as "an error"
				}
				break
			}
			n++
			bytes += int64(len(data))
			sum = inetsum.Add(data, sum)
			sum192 = inetsum.Add(data[:min(len(data), 192)], sum192)
		}
		f.Close()
		for _, w := range []int{window, 4096} { // 4096: records straddle windows
			gn, gb, gs, err := walk(name, w, 0)
			if err == nil && n >= 0 {
				if _, _, hs, err := walk(name, w, 192); err != nil || inetsum.Fold(hs) != inetsum.Fold(sum192) {
					t.Errorf("%s: -heads 192: sum %#x, error %v; pcapgo's first 192 bytes %#x", name, inetsum.Fold(hs), err, inetsum.Fold(sum192))
				}
			}
			switch {
			case n < 0:
				if err == nil {
					t.Errorf("%s: pcapgo fails on it, walk read %d records without an error", name, gn)
				}
			case err != nil:
				t.Errorf("%s: %v (pcapgo read %d records)", name, err, n)
			case gn != n || gb != bytes || inetsum.Fold(gs) != inetsum.Fold(sum):
				t.Errorf("%s: walk %d records, %d bytes, sum %#x; pcapgo %d, %d, %#x", name, gn, gb, inetsum.Fold(gs), n, bytes, inetsum.Fold(sum))
			default:
				walked++
			}
		}
	}
	if walked < 20 {
		t.Fatalf("only %d shipped captures walked", walked)
	}

	// Cut inside the last record: an error naming the record, after the
	// ones before it were counted.
	src, err := os.ReadFile("../../pcaps/lo-reset.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, src[:len(src)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	all, _, _, _ := walk("../../pcaps/lo-reset.pcap", window, 0)
	n, _, _, err := walk(cut, 4096, 0)
	if err == nil || !strings.Contains(err.Error(), "cut short") || n != all-1 {
		t.Errorf("cut file: %d records, error %v; want %d and \"cut short\"", n, err, all-1)
	}
	if _, _, _, err := walk("../../pcaps/gopacket-pcapng-be-test202.pcapng", window, 0); err == nil {
		t.Error("a pcapng file walked without an error")
	}
}
