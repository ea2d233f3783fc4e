package session

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/replay"
)

// run is one direction's bytes between direction changes, as the follow
// output interleaves them.
type run struct {
	dir  int
	data []byte
}

// tsharkFollow parses "tshark -q -z follow,tcp,raw,N": Node 0's address and
// the runs of bytes in the order tshark prints them (node 1's lines are
// indented by a tab). Consecutive chunks of one direction are merged: how
// tshark splits them (one per segment) is not what is compared.
func tsharkFollow(t *testing.T, path string) (string, []run) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	node0 := ""
	var runs []run
	inData := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Node 0: "):
			node0 = strings.TrimPrefix(line, "Node 0: ")
		case strings.HasPrefix(line, "Node 1: "):
			inData = true
		case strings.HasPrefix(line, "===="):
			if inData {
				inData = false
			}
		case inData && strings.TrimSpace(line) != "":
			dir := 0
			if strings.HasPrefix(line, "\t") {
				dir = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			runs = appendRun(runs, dir, b)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return node0, runs
}

func appendRun(runs []run, dir int, b []byte) []run {
	if n := len(runs); n > 0 && runs[n-1].dir == dir {
		runs[n-1].data = append(runs[n-1].data, b...)
		return runs
	}
	return append(runs, run{dir, append([]byte(nil), b...)})
}

// asTshark renders chunks the way tshark's follow does, gaps included
// ("[N bytes missing in capture file]" and a NUL), so the two compare byte
// for byte.
func asTshark(chunks []Chunk) []run {
	var runs []run
	for _, c := range chunks {
		b := c.Data
		if c.Missing > 0 {
			b = append([]byte(fmt.Sprintf("[%d bytes missing in capture file]", c.Missing)), 0)
		}
		runs = appendRun(runs, c.Dir, b)
	}
	return runs
}

// TestFollowMatchesTshark checks the reassembled payload of every stream
// listed in testdata/regen.sh against tshark 4.0's follow output: the same
// bytes, each direction's runs in the same order, gaps in the same places.
func TestFollowMatchesTshark(t *testing.T) {
	files, err := filepath.Glob("testdata/tshark/*.follow*.txt.gz")
	if err != nil || len(files) < 15 {
		t.Fatalf("expected at least 15 follow expectations, found %d (%v); run testdata/regen.sh", len(files), err)
	}
	totalBytes, gaps := 0, 0
	for _, exp := range files {
		base := filepath.Base(exp)
		i := strings.Index(base, ".follow")
		pcap := base[:i]
		var stream int
		fmt.Sscanf(base[i:], ".follow%d.txt.gz", &stream)
		t.Run(fmt.Sprintf("%s/%d", pcap, stream), func(t *testing.T) {
			node0, want := tsharkFollow(t, exp)
			f, err := replay.Open(filepath.Join("..", "pcaps", pcap), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := Load(context.Background(), f, LoadOptions{Stream: stream, Follow: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Ends[0].String(); got != node0 {
				t.Errorf("node 0 is %s, tshark says %s", got, node0)
			}
			got := asTshark(s.Follow.Chunks())
			for _, c := range s.Follow.Chunks() {
				totalBytes += len(c.Data)
				if c.Missing > 0 {
					gaps++
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d runs, tshark has %d", len(got), len(want))
			}
			for k := 0; k < len(got) && k < len(want); k++ {
				if got[k].dir != want[k].dir || !bytes.Equal(got[k].data, want[k].data) {
					t.Fatalf("run %d differs: got dir %d, %d bytes %q…; tshark dir %d, %d bytes %q…", k,
						got[k].dir, len(got[k].data), head(got[k].data), want[k].dir, len(want[k].data), head(want[k].data))
				}
			}
		})
	}
	t.Logf("%d streams, %d payload bytes, %d gaps compared with tshark", len(files), totalBytes, gaps)
}

func head(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
