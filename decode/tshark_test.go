package decode_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/defrag"
	"github.com/tcpscope/tcpscope/replay"
)

// TestAgainstTshark decodes every shipped capture and compares each TCP
// frame's header fields with what tshark 4.0.17 decoded, as committed in
// pcaps/tshark/*.decode.tsv by pcaps/tshark/decode-regen.sh.
func TestAgainstTshark(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/tshark/*.decode.tsv")
	if len(files) == 0 {
		t.Fatal("no expectations in ../pcaps/tshark; run pcaps/tshark/decode-regen.sh")
	}
	var frames, fields, mismatches int
	for _, exp := range files {
		capture := filepath.Join("../pcaps", strings.TrimSuffix(filepath.Base(exp), ".decode.tsv"))
		want := loadTSV(t, exp)
		if len(want) == 0 {
			continue
		}
		got := decodeAll(t, capture)
		for num, w := range want {
			frames++
			g, ok := got[num]
			if !ok {
				mismatches++
				t.Errorf("%s frame %d: tshark decodes TCP, we do not", filepath.Base(capture), num)
				continue
			}
			for name, wv := range w {
				if strings.HasSuffix(name, "_last") {
					continue
				}
				if g["tunnelled"] != "" && ipColumn[name] {
					if _, ok := g[name]; !ok {
						continue // only an outer header of the other IP version has it
					}
					wv = w[name+"_last"]
				}
				if wv == "" {
					continue
				}
				fields++
				if gv := g[name]; gv != wv {
					mismatches++
					if mismatches < 40 {
						t.Errorf("%s frame %d: %s = %q, tshark says %q", filepath.Base(capture), num, name, gv, wv)
					}
				}
			}
		}
	}
	t.Logf("%d TCP frames, %d field values compared with tshark, %d differ", frames, fields, mismatches)
}

var columns = []string{"frame", "sport", "dport", "seq_raw", "ack_raw", "hdr_len", "flags", "win_raw", "len",
	"ttl", "ip_id", "ip_len", "hlim", "ip6_plen", "mss", "wscale", "sack_perm", "sack_le", "sack_re", "tsval", "tsecr"}

// compared lists the columns checked: SACK edges are shown relative by
// tshark 4.0 even with absolute sequence numbers, so only their count is.
var compared = map[string]bool{"sport": true, "dport": true, "seq_raw": true, "ack_raw": true, "hdr_len": true,
	"flags": true, "win_raw": true, "len": true, "ttl": true, "ip_id": true, "ip_len": true, "hlim": true,
	"ip6_plen": true, "mss": true, "wscale": true, "sack_perm": true, "sack_n": true, "tsval": true, "tsecr": true}

func loadTSV(t *testing.T, path string) map[int]map[string]string {
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
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		v := strings.Split(line, "\t")
		n, err := strconv.Atoi(v[0])
		if err != nil {
			t.Fatalf("%s: bad line %q", path, line)
		}
		m := map[string]string{}
		for i, c := range columns[1:] {
			if i+1 < len(v) && compared[c] {
				m[c] = first(v[i+1])
				if ipColumn[c] {
					m[c+"_last"] = last(v[i+1])
				}
			}
		}
		if i := 17; i < len(v) && v[i] != "" {
			m["sack_n"] = strconv.Itoa(len(strings.Split(v[i], ",")))
		}
		if m["sack_perm"] != "" {
			m["sack_perm"] = "1"
		}
		out[n] = m
	}
	return out
}

// ipColumn lists the IP header columns: in a tunnelled frame tshark lists
// every IP header's value, outermost first, and the innermost is the one
// the TCP segment belongs to.
var ipColumn = map[string]bool{"ttl": true, "ip_id": true, "ip_len": true, "hlim": true, "ip6_plen": true}

func last(s string) string {
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		return s[i+1:]
	}
	return s
}

func first(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

// decodeAll returns our view of each TCP frame in the same notation.
func decodeAll(t *testing.T, path string) map[int]map[string]string {
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	out := map[int]map[string]string{}
	var p, whole decode.Packet
	fr := defrag.New()
	for {
		fm, err := f.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: stops with: %v", path, err)
			}
			return out
		}
		derr := decode.Decode(fm, &p)
		if derr == nil && p.Fragment {
			var b []byte
			var err error
			if p.IPVersion == 4 {
				b, err = fr.IPv4(fm.Data[p.IPOffset:], fm.Meta.Time)
			} else {
				b, err = fr.IPv6(fm.Data[p.IPOffset:], p.Ext.FragHdrOff, p.Src, p.Dst, fm.Meta.Time)
			}
			if err != nil {
				t.Errorf("%s frame %d: %v", path, fm.Meta.Number, err)
			}
			if b != nil {
				decode.DecodeIP(b, &whole)
				p.AdoptTCP(&whole)
			}
		}
		m := map[string]string{}
		if p.IPVersion == 4 {
			u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
			m["ttl"], m["ip_id"] = u(uint32(p.IPv4.TTL())), "0x"+leftPad(strconv.FormatUint(uint64(p.IPv4.ID()), 16), 4)
			m["ip_len"] = u(uint32(p.IPv4.TotalLen()))
			if p.IPv4.TotalLen() == 0 { // TSO: tshark shows the length taken from the frame
				m["ip_len"] = strconv.Itoa(len(p.IPv4) + fm.Meta.OrigLen - fm.Meta.CapLen)
			}
		}
		if p.IPVersion == 6 {
			m["hlim"] = strconv.Itoa(int(p.IPv6.HopLimit()))
			m["ip6_plen"] = strconv.Itoa(int(p.IPv6.PayloadLen()))
		}
		if p.NOuter > 0 {
			m["tunnelled"] = "1" // tshark lists the outer IP headers' fields first
		}
		if p.HasICMP { // the quoted header: tshark's tcp.* fields are its
			q := decode.TCP(p.ICMP.TCP)
			m["sport"], m["dport"] = strconv.Itoa(int(q.SrcPort())), strconv.Itoa(int(q.DstPort()))
			if h := p.ICMP.Head(); h != nil {
				m["hdr_len"] = strconv.Itoa(h.HeaderLen())
				m["flags"] = "0x" + leftPad(strconv.FormatUint(uint64(uint16(h.Reserved())<<9|uint16(h.Flags())), 16), 4)
				m["win_raw"], m["ack_raw"] = strconv.Itoa(int(h.Window())), strconv.FormatUint(uint64(h.Ack()), 10)
				if p.ICMP.V6 {
					m["seq_raw"] = strconv.FormatUint(uint64(h.Seq()), 10)
				}
				var o decode.Options
				decode.ParseOptions(h, &o)
				addOptions(m, &o)
			}
			out[fm.Meta.Number] = m
			continue
		}
		if p.TCPHead() == nil && len(p.TCPPartial) > 0 {
			b := p.TCPPartial
			if len(b) >= 2 {
				m["sport"] = strconv.Itoa(int(decode.Ntohs(b)))
			}
			if len(b) >= 4 {
				m["dport"] = strconv.Itoa(int(decode.Ntohs(b[2:])))
			}
			out[fm.Meta.Number] = m
			continue
		}
		tc := p.TCPHead()
		if tc == nil {
			continue
		}
		u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
		m["sport"], m["dport"] = u(uint32(tc.SrcPort())), u(uint32(tc.DstPort()))
		m["seq_raw"], m["ack_raw"] = u(tc.Seq()), u(tc.Ack())
		m["hdr_len"] = strconv.Itoa(tc.HeaderLen())
		// tshark's tcp.flags is the 12-bit field: reserved bits, AE, then byte 13.
		fl := uint16(tc.Reserved())<<9 | uint16(tc.Flags())
		if tc.AE() {
			fl |= 0x100
		}
		m["flags"] = "0x" + leftPad(strconv.FormatUint(uint64(fl), 16), 4)
		if p.TCPBogus { // tshark shows the bogus length but not the flags after it
			delete(m, "flags")
		}
		m["win_raw"] = u(uint32(tc.Window()))
		m["len"] = strconv.Itoa(p.PayloadLen)
		addOptions(m, &p.Options)
		out[fm.Meta.Number] = m
	}
}

// addOptions adds the option columns tshark fills.
func addOptions(m map[string]string, o *decode.Options) {
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	{
		if o.HasMSS {
			m["mss"] = u(uint32(o.MSS))
		}
		if o.HasWScale {
			m["wscale"] = u(uint32(o.WScale))
		}
		if o.SACKPerm {
			m["sack_perm"] = "1"
		}
		if o.NSACK > 0 {
			m["sack_n"] = strconv.Itoa(o.NSACK)
		}
		if o.HasTS {
			m["tsval"], m["tsecr"] = u(o.TSVal), u(o.TSEcr)
		}
	}
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
