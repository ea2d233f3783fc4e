package main

import (
	"bufio"
	bin "encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/google/gopacket/pcapgo"
	"github.com/tcpscope/tcpscope/analysis"
)

// writeSYNFlood writes a raw-IPv4 pcap of n SYNs, each from its own source
// address and port to 192.0.2.80:80: n half-open connections, as a SYN
// flood leaves them. Generated here, never committed (56 MB for a million).
func writeSYNFlood(t testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 40)
	start := time.Unix(1700000000, 0)
	for i := 0; i < n; i++ {
		pkt[0], pkt[3], pkt[8], pkt[9] = 0x45, 40, 64, 6
		copy(pkt[12:], []byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		copy(pkt[16:], []byte{192, 0, 2, 80})
		tcp := pkt[20:]
		bin.BigEndian.PutUint16(tcp[0:], uint16(1024+i%60000))
		bin.BigEndian.PutUint16(tcp[2:], 80)
		bin.BigEndian.PutUint32(tcp[4:], uint32(i)*2654435761)
		tcp[12], tcp[13] = 5<<4, 0x02
		bin.BigEndian.PutUint16(tcp[14:], 64240)
		ci := gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * time.Microsecond), CaptureLength: 40, Length: 40}
		if err := w.WritePacket(ci, pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMillionConnectionFlood replays a million-connection SYN flood through
// the real binary and measures its peak RSS (the kernel's ru_maxrss, as
// /usr/bin/time reports it). With the default --max-streams the analyzer
// forgets the least recently used connections, says so on stderr, and the
// whole process stays under 64 MiB (the memory goal for any capture size);
// without the cap it would hold a million connections (over a gigabyte).
// stats keeps a row per connection, spilled to a temporary file beyond
// 16 384 of them, so it stays under 64 MiB too.
func TestMillionConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the million-connection flood")
	}
	const n = 1000000
	path := filepath.Join(t.TempDir(), "synflood.pcap")
	writeSYNFlood(t, path, n)
	for _, tc := range []struct {
		args    []string
		maxRSS  int64 // KiB
		evicted string
	}{
		{[]string{"replay", "--json", "--no-summary"}, 64 << 10, fmt.Sprintf("more than %d connections; forgetting", analysis.DefaultMaxStreams)},
		{[]string{"replay", "--color", "never"}, 64 << 10, fmt.Sprintf("more than %d connections; forgetting", analysis.DefaultMaxStreams)},
		{[]string{"replay", "--json", "--no-summary", "--max-streams", "1000"}, 64 << 10, "more than 1000 connections; forgetting"},
		{[]string{"stats"}, 64 << 10, ""},
	} {
		args := tc.args
		start := time.Now()
		maxrss, stderr := peakRSS(t, nil, append(args, path)...)
		t.Logf("tcpscope %s on %d SYNs: peak RSS %.1f MiB, %v", strings.Join(args, " "), n, float64(maxrss)/1024, time.Since(start).Round(time.Millisecond))
		if maxrss > tc.maxRSS {
			t.Errorf("%v: peak RSS %d MiB, want at most %d MiB", args, maxrss>>10, tc.maxRSS>>10)
		}
		if !strings.Contains(stderr, tc.evicted) {
			t.Errorf("%v: stderr does not say connections were evicted (%q):\n%s", args, tc.evicted, stderr)
		}
	}
}

// peakRSS runs the tcpscope binary with args (stdout discarded, stdin from
// the given reader) and returns its peak resident set in KiB, as GNU time
// measures it, and its stderr. It fails the test if the command fails.
//
// The process's own ru_maxrss cannot be taken from os/exec: Go starts
// children with vfork (CLONE_VM), and at exec Linux records the hiwater
// RSS of the mm the child was using — the test process's own — as the
// child's maxrss, so a test binary that has grown past the bound makes
// every command it runs look as big. /usr/bin/time forks (a copy of its
// own small mm) and reports its child's rusage, which is the real one.
func peakRSS(t testing.TB, stdin io.Reader, args ...string) (int64, string) {
	t.Helper()
	return peakRSSTo(t, stdin, nil, args...)
}

// peakRSSTo is peakRSS with the command's stdout going to stdout (nil:
// discarded).
func peakRSSTo(t testing.TB, stdin io.Reader, stdout io.Writer, args ...string) (int64, string) {
	t.Helper()
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Skip("GNU time (/usr/bin/time) not installed; ./dev test installs it")
	}
	rf := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rf, binary(t)}, args...)...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	b, err := os.ReadFile(rf)
	if err != nil {
		t.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || kib <= 0 {
		t.Fatalf("GNU time reported %q", b)
	}
	return kib, stderr.String()
}
