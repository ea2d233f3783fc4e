package explain

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// tsharkColumns names the columns of testdata/tshark/*.tsv, in the order
// regen-tshark.sh asks tshark for them (after frame.number).
var tsharkColumns = strings.Fields(`tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags
tcp.window_size_value tcp.checksum tcp.checksum.status tcp.urgent_pointer
ip.version ip.hdr_len ip.dsfield ip.len ip.id ip.flags ip.frag_offset ip.ttl ip.proto ip.checksum ip.checksum.status
ipv6.tclass ipv6.flow ipv6.plen ipv6.nxt ipv6.hlim
tcp.options.mss_val tcp.options.wscale.shift tcp.options.sack_perm tcp.options.sack_le tcp.options.timestamp.tsval tcp.options.timestamp.tsecr`)

// TestDecodeMatchesTshark explains every TCP frame of every committed
// capture and checks each field value against tshark's (tshark -T fields,
// stored by testdata/regen-tshark.sh), so the numbers a lecturer projects
// are the ones Wireshark would show.
func TestDecodeMatchesTshark(t *testing.T) {
	files, _ := filepath.Glob("testdata/tshark/*.tsv")
	if len(files) < 50 {
		t.Fatalf("%d expectation files in testdata/tshark; run testdata/regen-tshark.sh", len(files))
	}
	var frames, values, bad int
	perColumn := map[string]int{}
	for _, exp := range files {
		capture := strings.TrimSuffix(filepath.Base(exp), ".tsv")
		want := readTSV(t, exp)
		got := explainAll(t, capture, want)
		for num, w := range want {
			frames++
			e, ok := got[num]
			if !ok {
				bad++
				t.Errorf("%s frame %d: tshark decodes TCP, tcpscope decode does not", capture, num)
				continue
			}
			ours := tsharkView(e)
			for col, wv := range w {
				if wv == "" {
					continue
				}
				values++
				perColumn[col]++
				if gv := ours[col]; gv != wv {
					bad++
					if bad <= 40 {
						t.Errorf("%s frame %d: %s = %q, tshark says %q", capture, num, col, gv, wv)
					}
				}
			}
		}
	}
	t.Logf("%d TCP frames in %d captures, %d field values compared with tshark, %d differ", frames, len(files), values, bad)
	var cols []string
	for _, c := range tsharkColumns {
		if c == "tcp.options.sack_le" {
			c = "sack.blocks"
		}
		if perColumn[c] == 0 {
			t.Errorf("column %s was never compared: the captures no longer exercise it", c)
		}
		cols = append(cols, fmt.Sprintf("%s:%d", c, perColumn[c]))
	}
	sort.Strings(cols)
	t.Logf("values per column: %s", strings.Join(cols, " "))
}

// readTSV loads tshark's values per frame, normalised to plain decimal
// numbers so that formatting (0x0002 vs 0x02) cannot cause a mismatch.
func readTSV(t *testing.T, path string) map[int]map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v := strings.Split(line, "\t")
		n, err := strconv.Atoi(v[0])
		if err != nil || len(v) != len(tsharkColumns)+1 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		m := map[string]string{}
		for i, col := range tsharkColumns {
			s := v[i+1]
			if s == "" {
				continue
			}
			switch col {
			case "tcp.options.sack_le":
				m["sack.blocks"] = strconv.Itoa(len(strings.Split(s, ",")))
				continue
			case "tcp.options.sack_perm":
				m[col] = "1" // present
				continue
			}
			s, _, _ = strings.Cut(s, ",") // the first occurrence
			u, err := strconv.ParseUint(s, 0, 64)
			if err != nil {
				t.Fatalf("%s frame %d: %s = %q is not a number", path, n, col, s)
			}
			if col == "ipv6.tclass" {
				u >>= 20 // tshark shows the class in place within the first word
			}
			m[col] = strconv.FormatUint(u, 10)
		}
		out[n] = m
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// explainAll builds the explanation of each frame listed in want, through
// the same pipeline as tcpscope decode.
func explainAll(t *testing.T, capture string, want map[int]map[string]string) map[int]*Explanation {
	src, err := replay.Open(filepath.Join("..", "pcaps", capture), nil)
	if err != nil {
		t.Fatalf("%s: %v", capture, err)
	}
	defer src.Close()
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	out := map[int]*Explanation{}
	var it pipeline.Item
	for {
		if err := pl.Next(&it); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: stops with: %v", capture, err)
			}
			return out
		}
		n := it.Frame.Meta.Number
		if _, ok := want[n]; ok && (it.Packet.TCP != nil || it.Packet.TCPHeaderTruncated) {
			out[n] = Build(MetaOf(&it), &it.Packet, binary.LittleEndian)
		}
	}
}

// tsharkView maps an explanation's fields to tshark's field names, as
// decimal numbers.
func tsharkView(e *Explanation) map[string]string {
	f := map[string]*Field{}
	sack := 0
	for i := range e.Layers {
		for j := range e.Layers[i].Fields {
			x := &e.Layers[i].Fields[j]
			if x.Key == "tcp.opt.sack.left" {
				sack++
			}
			if _, dup := f[x.Key]; !dup && !x.Missing {
				f[x.Key] = x
			}
		}
	}
	v := func(k string) (uint64, bool) {
		if x := f[k]; x != nil && x.Value != nil {
			return *x.Value, true
		}
		return 0, false
	}
	m := map[string]string{}
	set := func(col, key string, scale uint64) {
		if u, ok := v(key); ok {
			m[col] = strconv.FormatUint(u*scale, 10)
		}
	}
	set("tcp.srcport", "tcp.srcport", 1)
	set("tcp.dstport", "tcp.dstport", 1)
	set("tcp.seq_raw", "tcp.seq", 1)
	set("tcp.ack_raw", "tcp.ack", 1)
	set("tcp.hdr_len", "tcp.data_offset", 4)
	if fl, ok := v("tcp.flags"); ok {
		// tshark's tcp.flags is 12 bits: reserved (3), AE, then byte 13.
		rs, _ := v("tcp.reserved")
		ae, _ := v("tcp.ae")
		m["tcp.flags"] = strconv.FormatUint(rs<<9|ae<<8|fl, 10)
	}
	set("tcp.window_size_value", "tcp.window", 1)
	set("tcp.checksum", "tcp.checksum", 1)
	if x := f["tcp.checksum"]; x != nil {
		m["tcp.checksum.status"] = tsharkStatus(x.Meaning)
	}
	set("tcp.urgent_pointer", "tcp.urgent", 1)
	set("ip.version", "ipv4.version", 1)
	set("ip.version", "ipv6.version", 1) // tshark fills ip.version for IPv6 too
	set("ip.hdr_len", "ipv4.ihl", 4)
	set("ip.dsfield", "ipv4.tos", 1)
	set("ip.len", "ipv4.len", 1)
	if u, ok := v("ipv4.len"); ok && u == 0 {
		// A TSO super-packet: tshark shows the length it took from the
		// frame instead of the 0 on the wire, as our meaning column does.
		m["ip.len"] = "tso"
		for _, ly := range e.Layers {
			if ly.Key == "ipv4" {
				m["ip.len"] = strconv.Itoa(e.OrigLen - ly.Offset)
			}
		}
	}
	set("ip.id", "ipv4.id", 1)
	set("ip.flags", "ipv4.flags", 1)
	set("ip.frag_offset", "ipv4.frag_offset", 1)
	set("ip.ttl", "ipv4.ttl", 1)
	set("ip.proto", "ipv4.proto", 1)
	set("ip.checksum", "ipv4.checksum", 1)
	if x := f["ipv4.checksum"]; x != nil {
		m["ip.checksum.status"] = tsharkStatus(x.Meaning)
	}
	set("ipv6.tclass", "ipv6.tclass", 1)
	set("ipv6.flow", "ipv6.flow", 1)
	set("ipv6.plen", "ipv6.plen", 1)
	set("ipv6.nxt", "ipv6.nxt", 1)
	set("ipv6.hlim", "ipv6.hlim", 1)
	set("tcp.options.mss_val", "tcp.opt.mss", 1)
	set("tcp.options.wscale.shift", "tcp.opt.wscale", 1)
	if f["tcp.opt.sack_perm"] != nil {
		m["tcp.options.sack_perm"] = "1"
	}
	if sack > 0 {
		m["sack.blocks"] = strconv.Itoa(sack)
	}
	set("tcp.options.timestamp.tsval", "tcp.opt.ts.tsval", 1)
	set("tcp.options.timestamp.tsecr", "tcp.opt.ts.tsecr", 1)
	return m
}

// tsharkStatus maps our checksum verdict to tshark's checksum.status
// numbers: 0 bad, 1 good, 2 unverified. tshark has no "partial" verdict:
// a checksum left for offload does not verify, so it says bad.
func tsharkStatus(meaning string) string {
	switch {
	case strings.HasPrefix(meaning, "ok"):
		return "1"
	case strings.HasPrefix(meaning, "bad"), strings.HasPrefix(meaning, "unverified: partial"),
		// A short segment (IP length inside the TCP header): tshark sums
		// what the IP length covers anyway and calls it bad; we decline.
		strings.HasPrefix(meaning, "unverified: the IP length"):
		return "0"
	}
	return "2"
}
