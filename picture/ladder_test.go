package picture

import (
	"bytes"
	"context"
	"flag"
	goldenfile "github.com/tcpscope/tcpscope/internal/golden"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/session"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func load(t *testing.T, pcap string, stream int) *session.Session {
	t.Helper()
	f, err := replay.Open(filepath.Join("..", "pcaps", pcap), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := session.Load(context.Background(), f, session.LoadOptions{Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLadderGolden compares the ladder of a clean session, a lossy one and
// a reset one with reviewed golden files (go test -update rewrites them;
// read the diff before committing).
func TestLadderGolden(t *testing.T) {
	for _, tc := range []struct{ name, pcap string }{
		{"clean", "tcpdump-print-flags.pcap"},
		{"lossy", "zeek-tcp-retransmit-fast009.pcap"},
		{"reset", "pcapplusplus-one_http_stream_rst.pcap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, tc.pcap, 0)
			var buf bytes.Buffer
			if err := Ladder(&buf, s, LadderOptions{Theme: render.NewTheme(false), Roles: [2]string{"client", "server"}}); err != nil {
				t.Fatal(err)
			}
			goldenfile.Check(t, filepath.Join("testdata", "ladder-"+tc.name+".golden"), buf.Bytes(), *update)
			// Three rows per segment plus the header, the top and bottom bars.
			if n, want := strings.Count(buf.String(), "\n"), 3*len(s.Segments)+3; n != want {
				t.Errorf("%d lines, want %d for %d segments", n, want, len(s.Segments))
			}
		})
	}
}

// TestLadderArrowsPointToReceiver checks the drawing's one rule: every
// arrow head sits at the receiver's column.
func TestLadderArrowsPointToReceiver(t *testing.T) {
	s := load(t, "zeek-tcp-retransmit-fast009.pcap", 0)
	var buf bytes.Buffer
	if err := Ladder(&buf, s, LadderOptions{Theme: render.NewTheme(false), Width: 40}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, g := range s.Segments {
		head := []rune(lines[2+3*i+2])
		switch g.Dir {
		case 0:
			if head[margin+stateW+40] != '>' {
				t.Fatalf("segment #%d (left to right): %q has no '>' at the right column", g.Frame, string(head))
			}
		case 1:
			if head[margin+stateW+1] != '<' {
				t.Fatalf("segment #%d (right to left): %q has no '<' at the left column", g.Frame, string(head))
			}
		}
	}
}

func TestLabel(t *testing.T) {
	g := &session.Segment{Flags: 0x18, Seq: 1, Ack: 475, Len: 1446, Win: 6432, SACK: []session.Block{{Left: 14301, Right: 15731}}}
	if got, want := Label(g), "PSH,ACK seq=1 ack=475 len=1446 win=6432 sack=14301-15731"; got != want {
		t.Errorf("Label = %q, want %q", got, want)
	}
}

// TestLadderStates: each end's state beside its line where it changes, the
// sender's on the segment's first row, the receiver's where the arrow
// arrives; a capture that starts mid-connection says its states are
// inferred.
func TestLadderStates(t *testing.T) {
	var buf bytes.Buffer
	if err := Ladder(&buf, load(t, "tcpdump-print-flags.pcap", 0), LadderOptions{Theme: render.NewTheme(false)}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for _, c := range []struct {
		line int
		want string
	}{
		{1, "CLOSED |"}, {1, "| LISTEN"},
		{2, "SYN-SENT | SYN seq=0"},                // #1 leaves the client
		{5, "| SYN-RECEIVED"},                      // #2 leaves the server
		{7, "ESTABLISHED |<"},                      // and arrives at the client
		{10, ">| ESTABLISHED"},                     // #3 arrives at the server
		{23, "FIN-WAIT-1 | FIN,ACK"},               // #8
		{25, ">| CLOSE-WAIT"},                      //
		{26, "| LAST-ACK"},                         // #9 leaves the server,
		{27, "FIN-WAIT-2 |"}, {28, "TIME-WAIT |<"}, // two changes at the client
		{31, ">| CLOSED"}, // #10
	} {
		if c.line >= len(lines) || !strings.Contains(lines[c.line], c.want) {
			t.Errorf("line %d: want %q in %q", c.line, c.want, lines[min(c.line, len(lines)-1)])
		}
	}
	buf.Reset()
	if err := Ladder(&buf, load(t, "zeek-redis-pubsub.pcap", 0), LadderOptions{Theme: render.NewTheme(false)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(states inferred: the capture starts mid-connection)") ||
		!strings.Contains(strings.Split(buf.String(), "\n")[2], "ESTABLISHED |") {
		t.Errorf("mid-connection capture: no inferred states:\n%s", buf.String())
	}
}
