package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runTS runs tcpscope in-process and returns stdout, stderr and the exit code.
func runTS(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(append([]string{"tcpscope"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

const (
	lossyPcap = "../../pcaps/zeek-tcp-retransmit-fast009.pcap"
	httpPcap  = "../../pcaps/pcapplusplus-one_http_stream_rst.pcap"
	gapPcap   = "../../pcaps/zeek-tcp-reassembly.pcap"
)

// tsharkSums adds up session/testdata's per-frame tshark fields for one
// stream: packets and frame bytes by source port.
func tsharkSums(t *testing.T, pcap string, stream int) map[string][2]int {
	f, err := os.Open(filepath.Join("..", "..", "session", "testdata", "tshark", filepath.Base(pcap)+".frames.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v := strings.Split(sc.Text(), "\t")
		if s, _ := strconv.Atoi(v[0]); s != stream {
			continue
		}
		n, _ := strconv.Atoi(v[4])
		c := out[v[3]]
		c[0]++
		c[1] += n
		out[v[3]] = c
	}
	return out
}

func TestStatsJSON(t *testing.T) {
	out, errOut, code := runTS("stats", lossyPcap, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Connections []struct {
			Stream          int
			Client, Server  string
			Packets, Bytes  struct{ Client, Server int }
			HandshakeRTT    *float64 `json:"handshake_rtt"`
			Retransmissions int
			DupAcks         int `json:"dup_acks"`
			ZeroWindows     int `json:"zero_windows"`
			Ended           string
		}
		Totals struct {
			Connections int
			Packets     struct{ Client, Server int }
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Connections) != 1 || got.Totals.Connections != 1 {
		t.Fatalf("want one connection: %s", out)
	}
	c := got.Connections[0]
	want := tsharkSums(t, lossyPcap, 0) // by source port: 50368 is the client
	if c.Client != "10.0.88.85:50368" || c.Server != "192.168.0.27:80" {
		t.Errorf("client %s server %s", c.Client, c.Server)
	}
	if c.Packets.Client != want["50368"][0] || c.Packets.Server != want["80"][0] ||
		c.Bytes.Client != want["50368"][1] || c.Bytes.Server != want["80"][1] {
		t.Errorf("packets %+v bytes %+v; tshark %v", c.Packets, c.Bytes, want)
	}
	// tshark: three retransmissions (32 fast, 34, 36), five duplicate ACKs
	// (29-31, 33, 35), initial_rtt 0.185458 s, and the client's RST at the end.
	if c.Retransmissions != 3 || c.DupAcks != 5 || c.ZeroWindows != 0 || c.Ended != "reset by client" {
		t.Errorf("retrans %d dup %d zw %d ended %q", c.Retransmissions, c.DupAcks, c.ZeroWindows, c.Ended)
	}
	if c.HandshakeRTT == nil || *c.HandshakeRTT < 0.185457 || *c.HandshakeRTT > 0.185459 {
		t.Errorf("handshake rtt %v, want 0.185458", c.HandshakeRTT)
	}
	if got.Totals.Packets != c.Packets {
		t.Errorf("totals %+v differ from the only connection %+v", got.Totals.Packets, c.Packets)
	}
}

func TestStatsText(t *testing.T) {
	out, _, code := runTS("stats", "../../pcaps/zeek-redis-pubsub.pcap")
	if code != 0 {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// A header, one row per connection (tshark: 4 streams), the totals.
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "stream") || !strings.HasPrefix(lines[5], "total") || !strings.Contains(lines[5], "4 connections") {
		t.Fatalf("unexpected table:\n%s", out)
	}
	for i, l := range lines[1:5] {
		if !strings.HasPrefix(l, strconv.Itoa(i)+" ") {
			t.Errorf("row %d: %q", i, l)
		}
	}
}

// tsharkDirs reads a tshark follow,tcp,raw expectation into each node's
// bytes.
func tsharkDirs(t *testing.T, pcap string, stream int) [2][]byte {
	f, err := os.Open(filepath.Join("..", "..", "session", "testdata", "tshark", filepath.Base(pcap)+".follow"+strconv.Itoa(stream)+".txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	var d [2][]byte
	in := false
	for _, l := range strings.Split(string(text), "\n") {
		switch {
		case strings.HasPrefix(l, "Node 1:"):
			in = true
		case strings.HasPrefix(l, "===") || strings.TrimSpace(l) == "" || !in:
		default:
			b, err := hex.DecodeString(strings.TrimSpace(l))
			if err != nil {
				t.Fatal(err)
			}
			k := 0
			if strings.HasPrefix(l, "\t") {
				k = 1
			}
			d[k] = append(d[k], b...)
		}
	}
	return d
}

// TestFollowOut writes both directions as tcpflow does and compares the
// files with tshark's follow output.
func TestFollowOut(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runTS("follow", httpPcap, "--stream", "0", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := tsharkDirs(t, httpPcap, 0)
	for k, name := range []string{"010.003.065.035.05068-185.008.212.046.00080", "185.008.212.046.00080-010.003.065.035.05068"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (stdout: %s)", err, out)
		}
		if !bytes.Equal(got, want[k]) || len(got) == 0 {
			t.Errorf("%s: %d bytes, tshark %d, equal=%v", name, len(got), len(want[k]), bytes.Equal(got, want[k]))
		}
	}
}

func TestFollowHTTPAndGaps(t *testing.T) {
	out, _, code := runTS("follow", httpPcap, "--stream", "0", "--color", "never")
	for _, s := range []string{"── HTTP request, client 10.3.65.35:5068", "GET /engine/download.php?id=97853 HTTP/1.1",
		"HTTP/1.1 503 Service Temporarily Unavailable", "[headers 202 bytes, body 398 bytes]", "1 request, 1 response"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("follow HTTP output lacks %q:\n%s", s, out)
		}
	}
	out, _, code = runTS("follow", gapPcap, "--stream", "0", "--no-http", "--color", "never")
	// tshark puts 700-odd "[N bytes missing in capture file]" markers in the
	// follow streams of session/testdata; this one has several.
	if code != 0 || strings.Count(out, " bytes missing]") < 2 {
		t.Errorf("exit %d; gaps marked %d times:\n%.2000s", code, strings.Count(out, " bytes missing]"), out)
	}
	raw, _, _ := runTS("follow", httpPcap, "--stream", "0", "--raw", "--color", "never")
	if !strings.Contains(raw, "00000000  47 45 54 20 2f 65 6e 67") {
		t.Errorf("--raw lacks the hex of \"GET /eng\":\n%.600s", raw)
	}
}

func TestSessionCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"follow", httpPcap}, 2, "follow needs --stream N"},
		{[]string{"follow", httpPcap, "--stream", "5"}, 2, "no such stream 5: the capture holds 1 TCP stream,"},
		{[]string{"ladder", httpPcap}, 2, "ladder needs --stream N"},
		{[]string{"graph", httpPcap, "--stream", "0"}, 2, "graph needs -o FILE.svg"},
		{[]string{"graph", httpPcap, "--stream", "0", "-o", "-", "--dir", "up"}, 2, "--dir must be"},
		{[]string{"stats"}, 2, "stats takes one capture file"},
		{[]string{"stats", "/nonexistent.pcap"}, 1, "/nonexistent.pcap: no such file"},
	} {
		_, errOut, code := runTS(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
	for _, c := range []string{"stats", "follow", "ladder", "graph"} {
		out, _, code := runTS(c, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "tcpscope "+c+" ") {
			t.Errorf("%s --help teaches no example:\n%s", c, out)
		}
	}
}

// TestLadderCommand: the command draws what the picture package's golden
// file holds (client on the left, no colour).
func TestLadderCommand(t *testing.T) {
	out, errOut, code := runTS("ladder", httpPcap, "--stream", "0", "--color", "never")
	want, err := os.ReadFile("../../picture/testdata/ladder-reset.golden")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want) {
		t.Errorf("exit %d (%s); output differs from picture/testdata/ladder-reset.golden:\n%s", code, errOut, out)
	}
}

func TestGraphCommand(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "g.svg")
	_, errOut, code := runTS("graph", lossyPcap, "--stream", "0", "-o", svg)
	if code != 0 || !strings.Contains(errOut, "wrote "+svg+" (39 segments") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid SVG: %v", err)
		}
	}
	// --dir client draws the 474 bytes of the request instead.
	out, _, code := runTS("graph", lossyPcap, "--stream", "0", "-o", "-", "--dir", "client")
	if code != 0 || !strings.Contains(out, "data 10.0.88.85:50368 → 192.168.0.27:80") || !strings.Contains(out, "seq 1 len 474") {
		t.Errorf("--dir client: exit %d\n%.500s", code, out)
	}
}

// TestMappedFileSameOutput: a capture large enough to be read through a
// mapping (and by stats, headers only) prints what the same bytes print
// read from stdin through a buffer, in stats, replay and replay --json.
func TestMappedFileSameOutput(t *testing.T) {
	const path = "../../pcaps/lo-bulk-loss.pcap" // over 1 MiB: mapped
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1<<20 {
		t.Fatalf("%s is no longer large enough to be mapped", path)
	}
	for _, args := range [][]string{{"stats"}, {"replay", "--color", "never"}, {"replay", "--json"}} {
		fromFile, errFile, err1 := runBin(t, append(args, path)...)
		fromPipe, errPipe, err2 := runBinIn(t, string(data), append(args, "-")...)
		if err1 != nil || err2 != nil || errFile != errPipe {
			t.Fatalf("%v: %v %v\n%s\n%s", args, err1, err2, errFile, errPipe)
		}
		if fromFile != fromPipe || strings.Count(fromFile, "\n") < 3 {
			t.Errorf("%v: the mapped file prints differently from stdin:\n%s\n---\n%s", args, fromFile, fromPipe)
		}
	}
}

// writeCounter counts the writes that reach it.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestFollowWritesInBlocks: a file's followed stream goes out 64 KiB at a
// time (a write per chunk cost bench/bulk.pcap 160 000 write calls), and
// the same bytes a chunk at a time when the capture comes from a pipe.
func TestFollowWritesInBlocks(t *testing.T) {
	const pcap = "../../pcaps/lo-bulk-loss.pcap"
	capture, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	for _, view := range [][]string{{"--no-http"}, {"--raw"}} {
		args := append([]string{"tcpscope", "follow", "--stream", "0", "--color", "never"}, view...)
		var file, pipe writeCounter
		var errOut bytes.Buffer
		if code := run(append(args, pcap), strings.NewReader(""), &file, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", view, code, errOut.String())
		}
		if code := run(append(args, "-"), bytes.NewReader(capture), &pipe, &errOut); code != 0 {
			t.Fatalf("%v from a pipe: exit %d: %s", view, code, errOut.String())
		}
		if !bytes.Equal(file.Bytes(), pipe.Bytes()) {
			t.Fatalf("%v: %d bytes from the file, %d from the pipe", view, file.Len(), pipe.Len())
		}
		if most := file.Len()/(64<<10) + 2; file.writes > most || file.Len() < 1<<20 {
			t.Errorf("%v: %d bytes in %d writes from the file, want at most %d", view, file.Len(), file.writes, most)
		}
		if pipe.writes < 100 {
			t.Errorf("%v: %d bytes in %d writes from a pipe, want one a chunk", view, pipe.Len(), pipe.writes)
		}
	}
}

// TestFollowCutShowsWhatCameBefore: a capture cut inside a record stops
// follow with one line naming the file, and everything followed before the
// cut is still written out (the 64 KiB buffer is flushed on the error).
func TestFollowCutShowsWhatCameBefore(t *testing.T) {
	capture, err := os.ReadFile("../../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, capture[:len(capture)*3/4+7], 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"follow", "--stream", "0", "--no-http", "--color", "never"}
	whole, _, code := runTS(append(args, "../../pcaps/lo-bulk-loss.pcap")...)
	if code != 0 {
		t.Fatalf("whole capture: exit %d", code)
	}
	out, errOut, code := runTS(append(args, cut)...)
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "cut.pcap") {
		t.Errorf("exit %d, stderr %q: want a non-zero exit and one line naming the file", code, errOut)
	}
	// The stream's bytes up to the cut: the same as when the cut capture
	// comes through a pipe (written a chunk at a time, nothing buffered),
	// at least half of the whole stream, and the start of its output.
	var piped, pipedErr bytes.Buffer
	cutBytes, _ := os.ReadFile(cut)
	if code := run(append(append([]string{"tcpscope"}, args...), "-"), bytes.NewReader(cutBytes), &piped, &pipedErr); code == 0 {
		t.Errorf("from a pipe: exit 0, want an error")
	}
	if out != piped.String() || len(out) < len(whole)/2 || !strings.HasPrefix(whole, out) {
		t.Errorf("%d bytes shown before the cut, %d from a pipe (the whole capture: %d); a prefix of its output: %v",
			len(out), piped.Len(), len(whole), strings.HasPrefix(whole, out))
	}
}
