package render_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

// TestRenderersKeepNothingWrong: a renderer that has written every line
// before (its per-flow texts for ends and timestamps, its addresses, its
// date and RTT texts all warm) writes each line exactly as a fresh one
// does, on captures with many interleaved flows (80 streams over 64
// slots), IPv6, tunnels and ICMP errors; and a segment whose flow's last
// line had another stream number (ports reused) gets its own stream.
func TestRenderersKeepNothingWrong(t *testing.T) {
	for _, name := range []string{"lo-short-conns-loss.pcap", "lo-mixed.pcapng", "lo-ipv6-loss.pcap",
		"suricata-verify-bug-7657-01.pcap", "gen-icmp-errors.pcap", "gen-tun-vxlan.pcap"} {
		t.Run(name, func(t *testing.T) {
			src, err := replay.Open("../pcaps/"+name, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pl := pipeline.New(src, analysis.New(analysis.Options{}))
			var warmText, warmJSON bytes.Buffer
			var start frame.Meta
			text := &render.Text{W: &warmText, Theme: render.NewTheme(false)}
			js := &render.JSON{W: &warmJSON}
			lines := 0
			var it pipeline.Item
			for n := 0; ; n++ {
				err := pl.Next(&it)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					start = it.Frame.Meta
					text.Start, js.Start = start.Time, start.Time
				}
				p := &it.Packet
				if p.TCP == nil && len(p.TCPPartial) == 0 && !p.HasICMP {
					continue
				}
				var r *analysis.Result
				if it.Analyzed || it.Located {
					r = &it.Result
				}
				same(t, it.Frame.Meta, p, r, text, js, &warmText, &warmJSON, start)
				lines++
				if r != nil {
					other := *r
					other.Stream += 1000 // the same ends in another connection
					same(t, it.Frame.Meta, p, &other, text, js, &warmText, &warmJSON, start)
				}
			}
			if lines == 0 {
				t.Fatal("no lines")
			}
		})
	}
}

// same writes one segment with the warm renderers and with fresh ones and
// compares the lines.
func same(t *testing.T, m frame.Meta, p *decode.Packet, r *analysis.Result, text *render.Text, js *render.JSON, warmText, warmJSON *bytes.Buffer, start frame.Meta) {
	t.Helper()
	warmText.Reset()
	warmJSON.Reset()
	if err := text.Segment(m, p, r); err != nil {
		t.Fatal(err)
	}
	if err := js.Segment(m, p, r); err != nil {
		t.Fatal(err)
	}
	var freshText, freshJSON bytes.Buffer
	ft := &render.Text{W: &freshText, Theme: render.NewTheme(false), Start: start.Time}
	fj := &render.JSON{W: &freshJSON, Start: start.Time}
	if err := ft.Segment(m, p, r); err != nil {
		t.Fatal(err)
	}
	if err := fj.Segment(m, p, r); err != nil {
		t.Fatal(err)
	}
	if warmText.String() != freshText.String() {
		t.Fatalf("frame %d: text\n%s, a fresh renderer writes\n%s", m.Number, warmText.String(), freshText.String())
	}
	if warmJSON.String() != freshJSON.String() {
		t.Fatalf("frame %d: JSON\n%s, a fresh renderer writes\n%s", m.Number, warmJSON.String(), freshJSON.String())
	}
}
