package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// tsharkFrames returns the frames tshark 4.0 selected with -Y filter in
// capture, from pcaps/tshark/dfilter.tsv (scripts/dfilter-regen.sh), as
// "1,2,3"; ok is false when the file has no such filter.
func tsharkFrames(t *testing.T, capture, filter string) (frames string, ok bool) {
	f, err := os.Open("../../pcaps/tshark/dfilter.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if rest, isF := strings.CutPrefix(line, "F\t"); isF {
			if in {
				return "", true
			}
			in = rest == filter
			continue
		}
		if c, r, _ := strings.Cut(line, "\t"); in && c == capture {
			var out []string
			for _, part := range strings.Split(r, ",") {
				a, b, isRange := strings.Cut(part, "-")
				if !isRange {
					out = append(out, a)
					continue
				}
				lo, _ := strconv.Atoi(a)
				hi, _ := strconv.Atoi(b)
				for n := lo; n <= hi; n++ {
					out = append(out, strconv.Itoa(n))
				}
			}
			return strings.Join(out, ","), true
		}
	}
	return "", in
}

// TestReplayDisplayFilter: replay -Y shows, in text and in JSON, exactly
// the frames tshark -Y selects, with their numbers.
func TestReplayDisplayFilter(t *testing.T) {
	for _, c := range []struct{ capture, filter string }{
		{"lo-bulk-loss.pcap", "tcp.analysis.retransmission and tcp.stream == 0"},
		{"lo-short-conns-loss.pcap", "tcp.analysis.flags"},
		{"zeek-http-206_example_a.pcap", "tcp.payload contains \"HTTP\""},
		{"lo-ipv6-loss.pcap", "tcp.analysis.ack_rtt > 0.2"},
		{"lo-zero-window.pcap", "tcp.analysis.zero_window || tcp.analysis.zero_window_probe || tcp.analysis.zero_window_probe_ack"},
	} {
		want, ok := tsharkFrames(t, c.capture, c.filter)
		if !ok {
			t.Fatalf("%q is not in pcaps/tshark/dfilter.tsv", c.filter)
		}
		path := filepath.Join("../../pcaps", c.capture)
		var out, errb bytes.Buffer
		if code := run([]string{"tcpscope", "replay", "--no-summary", "--color", "never", "-Y", c.filter, path}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s -Y %q: exit %d: %s", c.capture, c.filter, code, errb.String())
		}
		if got := framesShown(out.String()); got != want {
			t.Errorf("%s -Y %q: frames %s, tshark %s", c.capture, c.filter, got, want)
		}
		out.Reset()
		if code := run([]string{"tcpscope", "replay", "--json", "--no-summary", "--display-filter", c.filter, path}, nil, &out, &errb); code != 0 {
			t.Fatalf("--json: exit %d: %s", code, errb.String())
		}
		var nums []string
		for _, m := range regexp.MustCompile(`(?m)^\{"frame":(\d+),`).FindAllStringSubmatch(out.String(), -1) {
			nums = append(nums, m[1])
		}
		if got := strings.Join(nums, ","); got != want {
			t.Errorf("%s -Y %q --json: frames %s, tshark %s", c.capture, c.filter, got, want)
		}
	}
}

// TestReplayDisplayFilterSummary: after -Y the summary describes only the
// connections a shown segment belongs to, with whole-capture counts.
func TestReplayDisplayFilterSummary(t *testing.T) {
	path := "../../pcaps/lo-short-conns-loss.pcap"
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "replay", "--color", "never", "-Y", "tcp.analysis.retransmission && tcp.stream in {2 4}", path}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	if !strings.Contains(s, "2 connections:") || !strings.Contains(s, "stream 2:") || !strings.Contains(s, "stream 4:") || strings.Contains(s, "stream 3:") {
		t.Errorf("summary should list streams 2 and 4 only:\n%s", s)
	}
	// Whole-capture counts: stream 2 has 3 retransmissions and 19 frames
	// (stats), though -Y shows only its retransmissions.
	if !strings.Contains(s, "3 retransmissions, 1 duplicate ACK") {
		t.Errorf("stream 2's summary should count its whole connection:\n%s", s)
	}
}

// TestDisplayFilterErrors: a bad filter is one message line, then the
// filter with a caret under the bad token, exit 2, nothing on stdout; a
// filter that matches nothing prints nothing, says so on stderr, exit 0.
func TestDisplayFilterErrors(t *testing.T) {
	path := "../../pcaps/lo-bulk-loss.pcap"
	for _, cmd := range [][]string{
		{"replay", path}, {"replay", "--json", path}, {"stats", path}, {"ladder", "--stream", "0", path},
		{"graph", "--stream", "0", "-o", "-", path},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"tcpscope"}, cmd...)
		code := run(append(args, "-Y", "tcp.analysis.retransmision && tcp.stream == 3"), nil, &out, &errb)
		want := "tcpscope: -Y: tcp.analysis.retransmision is neither a field nor a protocol name. Did you mean tcp.analysis.retransmission?\n" +
			"    tcp.analysis.retransmision && tcp.stream == 3\n" +
			"    ^~~~~~~~~~~~~~~~~~~~~~~~~~\n"
		if code != exitUsage || errb.String() != want || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", cmd, code, out.String(), errb.String(), want)
		}
		out.Reset()
		errb.Reset()
		code = run(append(args, "-Y", "tcp.port == 1"), nil, &out, &errb)
		if code != 0 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "matches the display filter") {
			t.Errorf("%v -Y 'tcp.port == 1': exit %d, stdout %q, stderr %q; want exit 0, no output, one line", cmd, code, out.String(), errb.String())
		}
	}
}

// TestStatsDisplayFilter: stats -Y lists the connections with at least one
// matching frame: the streams of the segments replay -Y shows. Also with a
// filter on bytes in flight, which stats works out only when a filter asks.
func TestStatsDisplayFilter(t *testing.T) {
	path := "../../pcaps/lo-short-conns-loss.pcap"
	for _, c := range []struct {
		filter string
		least  int // rows at least
	}{
		{"tcp.analysis.retransmission", 5},
		{"tcp.analysis.bytes_in_flight > 200", 1},
		{"tcp.analysis.push_bytes_sent > 200", 1},
	} {
		var out, errb bytes.Buffer
		if code := run([]string{"tcpscope", "replay", "--json", "--no-summary", "-Y", c.filter, path}, nil, &out, &errb); code != 0 {
			t.Fatal(errb.String())
		}
		want := map[string]bool{}
		for _, m := range regexp.MustCompile(`"stream":(\d+)`).FindAllStringSubmatch(out.String(), -1) {
			want[m[1]] = true
		}
		out.Reset()
		if code := run([]string{"tcpscope", "stats", "-Y", c.filter, path}, nil, &out, &errb); code != 0 {
			t.Fatal(errb.String())
		}
		var got, wantList []string
		for _, m := range regexp.MustCompile(`(?m)^(\d+) `).FindAllStringSubmatch(out.String(), -1) {
			got = append(got, m[1])
		}
		for s := range want {
			wantList = append(wantList, s)
		}
		sort.Slice(wantList, func(i, j int) bool {
			a, _ := strconv.Atoi(wantList[i])
			b, _ := strconv.Atoi(wantList[j])
			return a < b
		})
		if strings.Join(got, ",") != strings.Join(wantList, ",") || len(got) < c.least {
			t.Errorf("stats -Y %q rows %v, want the streams replay -Y shows %v", c.filter, got, wantList)
		}
		if !strings.Contains(out.String(), "total   "+strconv.Itoa(len(got))+" connection") {
			t.Errorf("stats -Y %q: the total should count the %d selected connections:\n%s", c.filter, len(got), out.String())
		}
	}
}

// TestLadderGraphDisplayFilter: ladder and graph draw only the stream's
// segments the filter selects.
func TestLadderGraphDisplayFilter(t *testing.T) {
	path := "../../pcaps/lo-zero-window.pcap"
	filter := "tcp.analysis.zero_window || tcp.analysis.zero_window_probe || tcp.analysis.zero_window_probe_ack"
	want, _ := tsharkFrames(t, "lo-zero-window.pcap", filter)
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "ladder", "--stream", "0", "--color", "never", "-Y", filter, path}, nil, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	if got := framesShown(out.String()); got != want || got == "" {
		t.Errorf("ladder -Y rows %s, tshark %s", got, want)
	}
	out.Reset()
	errb.Reset()
	svg := filepath.Join(t.TempDir(), "g.svg")
	if code := run([]string{"tcpscope", "graph", "--stream", "0", "-o", svg, "-Y", filter, path}, nil, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	n := strings.Count(want, ",") + 1
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(errb.String(), "("+strconv.Itoa(n)+" segments of stream 0)") || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("graph -Y should draw the %d selected segments; stderr %q", n, errb.String())
	}
}

// TestFieldsCommand: tcpscope fields lists every field with its type.
func TestFieldsCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "fields"}, nil, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	s := out.String()
	for _, want := range []string{
		`(?m)^tcp.analysis.retransmission +FT_NONE +data sent again`,
		`(?m)^tcp.analysis.ack_rtt +FT_RELATIVE_TIME `,
		`(?m)^ip.addr +FT_IPv4 `,
		`(?m)^tcp.payload +FT_BYTES `,
	} {
		if !regexp.MustCompile(want).MatchString(s) {
			t.Errorf("fields lacks %q", want)
		}
	}
	if n := strings.Count(s, "\n"); n < 80 {
		t.Errorf("fields lists %d fields", n)
	}
}

// TestCaptureDisplayFilter captures a real loopback exchange with -Y: only
// the segments carrying data are shown, and the payload filter gets the
// payload (not the headers-only snaplen).
func TestCaptureDisplayFilter(t *testing.T) {
	testroot.Need(t)
	py := `import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); p=s.getsockname()[1]
time.sleep(0.5)
c=socket.create_connection(("127.0.0.1",p)); a,_=s.accept(); c.sendall(b"hello "*100); a.recv(600); a.sendall(b"GET"); c.recv(3); c.close(); a.close(); time.sleep(0.2)`
	out, errOut, err := runBin(t, "capture", "--color", "never", "-Y", `tcp.len > 0 && tcp.payload[-6:] == "hello "`, "--run", "python3 -c '"+py+"'", "tcp")
	if err != nil {
		t.Fatalf("capture -Y: %v\n%s", err, errOut)
	}
	lines := regexp.MustCompile(`(?m)^#\d+ .*$`).FindAllString(out, -1)
	if len(lines) != 1 || !strings.Contains(lines[0], "len 600") {
		t.Errorf("capture -Y should show the one 600-byte segment:\n%s", out)
	}
}

// BenchmarkReplayDisplayFilter: replay -Y 'tcp.analysis.flags' costs no
// more than replay itself (the filter runs on every frame; fewer lines are
// printed). One op is one whole replay of a capture with loss.
func BenchmarkReplayDisplayFilter(b *testing.B) {
	path := "../../pcaps/lo-bulk-loss.pcap"
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"replay", []string{"tcpscope", "replay", "--color", "never", path}},
		{"replay -Y tcp.analysis.flags", []string{"tcpscope", "replay", "--color", "never", "-Y", "tcp.analysis.flags", path}},
		{"replay --json", []string{"tcpscope", "replay", "--json", path}},
		{"replay --json -Y tcp.analysis.flags", []string{"tcpscope", "replay", "--json", "-Y", "tcp.analysis.flags", path}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if code := run(bc.args, nil, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
