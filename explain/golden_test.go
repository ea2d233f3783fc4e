package explain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	goldenfile "github.com/tcpscope/tcpscope/internal/golden"
	"io"
	"path/filepath"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

var update = flag.Bool("update", false, "rewrite golden files")

// explainFrame runs capture (in ../pcaps) through the same pipeline as
// tcpscope decode and explains frame n, as if on a little-endian host so
// that the golden files do not depend on the machine.
func explainFrame(t testing.TB, capture string, n int) *Explanation {
	t.Helper()
	src, err := replay.Open(filepath.Join("..", "pcaps", capture), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	var it pipeline.Item
	for {
		if err := pl.Next(&it); err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatalf("%s has no frame %d", capture, n)
			}
			t.Fatal(err)
		}
		if it.Frame.Meta.Number == n {
			return Build(MetaOf(&it), &it.Packet, binary.LittleEndian)
		}
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

func TestDecodeGolden(t *testing.T) {
	cases := []struct {
		name    string
		capture string
		frame   int
		json    bool
	}{
		{"ipv4-syn", "tcpdump-print-flags.pcap", 1, true},
		{"ipv6-syn", "zeek-http-1000-requests-one-dropped-response.pcap", 1, false},
		{"sack", "tcpdump-ssh.pcap", 48, false},
		{"data-timestamps", "tcpdump-print-flags.pcap", 4, false},
		{"truncated", "zeek-tcp-truncated-header.pcap", 1, true},
		// Tunnels: every layer with its offsets and byte order.
		{"tunnel-vxlan", "gen-tun-vxlan.pcap", 4, true},
		{"tunnel-erspan3", "gen-tun-erspan.pcap", 2, false},
		{"tunnel-mpls", "gen-tun-mpls.pcap", 2, false},
		{"tunnel-gtpu", "gen-tun-gtpu.pcap", 3, false},
		{"icmp-frag-needed", "gen-icmp-errors.pcap", 3, true},
		{"bogus-hdrlen", "gen-tcp-bogus-hdrlen.pcap", 7, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := explainFrame(t, c.capture, c.frame)
			var b bytes.Buffer
			if err := WriteText(&b, e, TextOptions{Theme: render.NewTheme(false)}); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".txt", b.Bytes())
			if c.json {
				b.Reset()
				if err := WriteJSON(&b, e); err != nil {
					t.Fatal(err)
				}
				golden(t, c.name+".json", b.Bytes())
			}
		})
	}
}
