package main

import (
	enc "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestReplaySaysWhatItSkips: frames decode cannot follow to TCP (IPsec ESP,
// tunnels nested past the bound) are counted in one stderr line at the end,
// and the tunnelled segments around them are shown with their outer layers.
func TestReplaySaysWhatItSkips(t *testing.T) {
	seg, err := os.ReadFile("../../pcaps/gen-tun-ipip.pcap")
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(strings.NewReader(string(seg)))
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := r.ReadPacketData() // Ethernet, IPv4, IPv4 (4in4), TCP SYN
	if err != nil {
		t.Fatal(err)
	}
	inner := first[14:]
	wrap := func(ip []byte, proto byte) []byte {
		h := make([]byte, 20, 20+len(ip))
		h[0], h[8], h[9] = 0x45, 64, proto
		enc.BigEndian.PutUint16(h[2:], uint16(20+len(ip)))
		copy(h[12:], []byte{192, 0, 2, 1})
		copy(h[16:], []byte{192, 0, 2, 2})
		return append(h, ip...)
	}
	deep := inner
	for i := 0; i < 9; i++ {
		deep = wrap(deep, 4)
	}
	esp := wrap(make([]byte, 64), 50)
	path := filepath.Join(t.TempDir(), "skips.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65535, layers.LinkTypeRaw)
	for i, b := range [][]byte{inner, deep, esp, esp} {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, int64(i)), CaptureLength: len(b), Length: len(b)}, b)
	}
	f.Close()
	out, errs, code := runCLI(t, nil, "replay", "--json", "--no-summary", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, `"outer":[{"encap":"4in4"`) {
		t.Errorf("stdout: %q, want the one tunnelled segment with its outer layer", out)
	}
	want := "3 frames not decoded to TCP: 1 tunnels nested deeper than 8 levels (first: frame 2); 2 IPsec ESP packets (encrypted) (first: frame 3)"
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
		t.Errorf("stderr %q, want one line with %q", errs, want)
	}
}

// TestEveryCommandOnGeneratedCaptures: the frames that are not whole
// segments (ICMP quotes, cut and bogus headers) and the tunnelled ones go
// through every reading command without a crash (stats used to index a
// cut header's missing flags byte).
func TestEveryCommandOnGeneratedCaptures(t *testing.T) {
	files, _ := filepath.Glob("../../pcaps/gen-*.pcap")
	if len(files) < 15 {
		t.Fatalf("only %d generated captures", len(files))
	}
	for _, f := range files {
		for _, args := range [][]string{{"stats"}, {"stats", "--json"}, {"ladder", "--stream", "1"}, {"follow", "--stream", "1"},
			{"replay", "--explain"}, {"decode", "--frame", "3"}} {
			_, errs, code := runCLI(t, nil, append(args, f)...)
			if code != 0 {
				t.Errorf("%v %s: exit %d: %s", args, filepath.Base(f), code, errs)
			}
		}
	}
}
