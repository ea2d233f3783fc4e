package session

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// tableOf runs a capture through the pipeline into a Table.
func tableOf(t *testing.T, pcap string) *Table {
	t.Helper()
	var tab Table
	feed(t, pcap, &tab)
	return &tab
}

// feed runs a capture through the pipeline into every table given.
func feed(t *testing.T, pcap string, tabs ...*Table) {
	t.Helper()
	f, err := replay.Open(filepath.Join("..", "pcaps", pcap), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pl := pipeline.New(f, analysis.New(analysis.Options{}))
	var it pipeline.Item
	for {
		err := pl.Next(&it)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tab := range tabs {
			tab.Add(&it)
		}
	}
}

// side is one direction of one stream in tshark's per-frame fields.
type side struct {
	stream int
	src    string // "addr:port"
}

type counts struct{ packets, bytes, payload int }

// tsharkFrames sums testdata/tshark/*.frames.tsv (tcp.stream, ip.src,
// ipv6.src, tcp.srcport, frame.len, tcp.len per TCP frame) by stream and
// sender.
func tsharkFrames(t *testing.T, path string) map[side]*counts {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[side]*counts{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v := strings.Split(sc.Text(), "\t")
		if len(v) < 6 || v[0] == "" {
			continue
		}
		stream, _ := strconv.Atoi(v[0])
		addr := v[1]
		if addr == "" {
			addr = v[2]
		}
		// ICMP errors quote a TCP header: tshark lists both addresses.
		addr, _, _ = strings.Cut(addr, ",")
		port, _, _ := strings.Cut(v[3], ",")
		a, err := netip.ParseAddr(addr)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, addr, err)
		}
		p, _ := strconv.Atoi(port)
		k := side{stream, netip.AddrPortFrom(a, uint16(p)).String()}
		n, _ := strconv.Atoi(v[4])
		l, _ := strconv.Atoi(v[5])
		c := out[k]
		if c == nil {
			c = &counts{}
			out[k] = c
		}
		c.packets++
		c.bytes += n
		c.payload += l
	}
	return out
}

// TestStatsMatchTshark compares every connection's packets, frame bytes and
// payload bytes each way with tshark's per-frame fields, and the table's
// frame counts and (rounded) byte counts with "tshark -z conv,tcp".
func TestStatsMatchTshark(t *testing.T) {
	files, _ := filepath.Glob("testdata/tshark/*.frames.tsv")
	if len(files) < 10 {
		t.Fatalf("expected at least 10 stats expectations, found %d; run testdata/regen.sh", len(files))
	}
	nConn, nPackets := 0, 0
	for _, exp := range files {
		pcap := strings.TrimSuffix(filepath.Base(exp), ".frames.tsv")
		t.Run(pcap, func(t *testing.T) {
			tab := tableOf(t, pcap)
			want := tsharkFrames(t, exp)
			got := map[side]*counts{}
			for _, c := range tab.Conns() {
				for d, ep := range [2]netip.AddrPort{c.Client, c.Server} {
					if c.Packets[d] > 0 {
						got[side{c.Stream, ep.String()}] = &counts{c.Packets[d], c.Bytes[d], c.Payload[d]}
					}
				}
			}
			for k, w := range want {
				g := got[k]
				if g == nil {
					t.Errorf("stream %d, from %s: missing (tshark: %+v)", k.stream, k.src, *w)
					continue
				}
				if *g != *w {
					t.Errorf("stream %d, from %s: got %+v, tshark %+v", k.stream, k.src, *g, *w)
				}
				nPackets += w.packets
			}
			for k, g := range got {
				if want[k] == nil {
					t.Errorf("stream %d, from %s: %+v, not in tshark", k.stream, k.src, *g)
				}
			}
			nConn += len(tab.Conns())
			checkConv(t, strings.TrimSuffix(exp, ".frames.tsv")+".conv.txt", tab)
		})
	}
	t.Logf("%d connections, %d packets compared with tshark", nConn, nPackets)
}

// checkConv compares the conversation table row by row: tshark prints one
// row per connection (streams that reuse ports get rows of their own), with
// "<-" counting frames from the second address to the first, and bytes as
// "N bytes" below 10000, else truncated to kB or MB. Rows are compared as
// multisets, each oriented with the smaller address first.
func checkConv(t *testing.T, path string, tab *Table) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v := strings.Fields(sc.Text())
		if len(v) < 12 || v[1] != "<->" {
			continue
		}
		in, _ := strconv.Atoi(v[3])
		out, _ := strconv.Atoi(v[6])
		want[convRow(v[0], v[2], out, v[7]+" "+v[8], in, v[4]+" "+v[5])]++
	}
	if len(want) == 0 {
		t.Fatalf("%s: no conversations parsed", path)
	}
	got := map[string]int{}
	for _, c := range tab.Conns() {
		got[convRow(tsharkAddr(c.Client), tsharkAddr(c.Server), c.Packets[0], sizeString(c.Bytes[0]), c.Packets[1], sizeString(c.Bytes[1]))]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("conversation %s: tshark has %d, tcpscope %d", k, n, got[k])
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			t.Errorf("conversation %s: tcpscope has %d, tshark none", k, n)
		}
	}
}

// convRow names a conversation: a sent framesA frames of bytesA to b, and
// b framesB of bytesB to a; the smaller address comes first.
func convRow(a, b string, framesA int, bytesA string, framesB int, bytesB string) string {
	if a > b {
		a, b, framesA, bytesA, framesB, bytesB = b, a, framesB, bytesB, framesA, bytesA
	}
	return fmt.Sprintf("%s -> %s: %d frames, %s; back: %d frames, %s", a, b, framesA, bytesA, framesB, bytesB)
}

// tsharkAddr writes addr:port as tshark's tables do (no brackets for IPv6).
func tsharkAddr(ap netip.AddrPort) string {
	return ap.Addr().String() + ":" + strconv.Itoa(int(ap.Port()))
}

// sizeString formats a byte count as tshark 4.0's conversation table does.
func sizeString(n int) string {
	switch {
	case n >= 10*1000*1000:
		return fmt.Sprintf("%d MB", n/1000/1000)
	case n >= 10*1000:
		return fmt.Sprintf("%d kB", n/1000)
	}
	return fmt.Sprintf("%d bytes", n)
}

// TestTableSpill: with one stream per chunk and two chunks in memory, or
// two and one, a capture of many connections is mostly on disk, and late
// segments of old streams (retransmissions, final ACKs) bring chunks back.
// The listing must equal that of a table that kept everything in memory.
// (Two streams a chunk: a chunk's first stream is not its index, as row's
// shortcut to the last chunk must know.)
func TestTableSpill(t *testing.T) {
	for _, pcap := range []string{"lo-short-conns-loss.pcap", "lo-mixed.pcapng", "lo-reset.pcap"} {
		for _, rows := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d-rows", pcap, rows), func(t *testing.T) { testTableSpill(t, pcap, rows, 3-rows) })
		}
	}
}

func testTableSpill(t *testing.T, pcap string, chunkRows, maxChunks int) {
	whole := Table{MaxChunks: 1 << 30}
	small := Table{ChunkRows: chunkRows, MaxChunks: maxChunks}
	defer small.Close()
	feed(t, pcap, &whole, &small)
	if small.file == nil {
		t.Fatalf("%d connections, %d a chunk, %d chunks in memory: nothing was spilled", whole.Len(), chunkRows, maxChunks)
	}
	a, b := whole.Conns(), small.Conns()
	if len(a) != len(b) || len(a) < 4 {
		t.Fatalf("%d connections in memory, %d with spilling", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("stream %d differs after spilling:\n%+v\n%+v", a[i].Stream, a[i], b[i])
		}
	}
	if small.Totals() != whole.Totals() || small.Err() != nil {
		t.Errorf("totals differ or read-back error %v", small.Err())
	}
}

// TestRowHasNoPointers: a row is written to the spill file as its memory
// (rowBytes), which is only sound while it holds no pointer, slice, string,
// map, interface, channel or function, in any field at any depth.
func TestRowHasNoPointers(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
			}
		case reflect.Array:
			walk(ty.Elem(), path+"[]")
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		default:
			t.Errorf("row%s is a %s: rows can no longer be spilled as bytes", path, ty.Kind())
		}
	}
	walk(reflect.TypeFor[row](), "")
}
