package main

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// TestStatsAgreeWithReplaySummary: `stats` and the summary after `replay`
// say the same thing about every connection: how it ended, and how long
// its handshake took, in the same words (they once said "closed by client"
// and "closed by both (FIN)", "0.0ms" and "17 µs").
func TestStatsAgreeWithReplaySummary(t *testing.T) {
	head := regexp.MustCompile(`(?m)^  stream (\d+): .*\n    (.*)\n    .*; (.*)$`)
	hs := regexp.MustCompile(`handshake ([0-9.]+ [µm]?s)`)
	for _, name := range []string{"lo-mixed.pcapng", "lo-reset.pcap", "lo-short-conns-loss.pcap", "pcapplusplus-one_http_stream_rst.pcap",
		"tcpdump-tcp-handshake-nano.pcap", "lo-keepalive.pcap", "tcpdump-tcp_rst_data.pcap"} {
		t.Run(name, func(t *testing.T) {
			path := "../../pcaps/" + name
			js, errOut, err := runBin(t, "stats", "--json", path)
			if err != nil {
				t.Fatalf("stats: %v\n%s", err, errOut)
			}
			var st struct {
				Connections []struct {
					Stream    int
					Handshake *float64
					Ended     string
				}
			}
			if err := json.Unmarshal([]byte(js), &st); err != nil {
				t.Fatal(err)
			}
			out, errOut, err := runBin(t, "replay", "--color", "never", path)
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, errOut)
			}
			blocks := head.FindAllStringSubmatch(out, -1)
			if len(blocks) != len(st.Connections) || len(blocks) == 0 {
				t.Fatalf("replay summarises %d connections, stats %d", len(blocks), len(st.Connections))
			}
			for i, b := range blocks {
				c := st.Connections[i]
				if strconv.Itoa(c.Stream) != b[1] {
					t.Fatalf("row %d: stream %s vs %d", i, b[1], c.Stream)
				}
				if c.Ended != b[3] {
					t.Errorf("stream %d: stats says %q, replay %q", c.Stream, c.Ended, b[3])
				}
				m := hs.FindStringSubmatch(b[2])
				switch {
				case m == nil && c.Handshake != nil:
					t.Errorf("stream %d: stats has a handshake, replay none (%s)", c.Stream, b[2])
				case m != nil && c.Handshake == nil:
					t.Errorf("stream %d: replay says handshake %s, stats none", c.Stream, m[1])
				case m != nil:
					d := time.Duration(math.Round(*c.Handshake * 1e9))
					if got := analysis.FormatDuration(d); got != m[1] {
						t.Errorf("stream %d: stats handshake %s, replay %s", c.Stream, got, m[1])
					}
				}
			}
			// The text table shows the handshake in the same words.
			txt, _, err := runBin(t, "stats", path)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				if m := hs.FindStringSubmatch(b[2]); m != nil && !regexp.MustCompile(`(?m)^`+b[1]+` .*  `+regexp.QuoteMeta(m[1])+`  `).MatchString(txt) {
					t.Errorf("stream %s: stats table lacks handshake %q:\n%s", b[1], m[1], txt)
				}
			}
		})
	}
}
