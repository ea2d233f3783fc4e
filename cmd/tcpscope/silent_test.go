package main

import (
	"bytes"
	"compress/gzip"
	le "encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writePcap writes a microsecond pcap of link type lt holding frames.
func writePcap(t *testing.T, path string, lt uint32, frames ...[]byte) {
	t.Helper()
	b := le.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	b = le.LittleEndian.AppendUint16(b, 2)
	b = le.LittleEndian.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.LittleEndian.AppendUint32(b, 65535)
	b = le.LittleEndian.AppendUint32(b, lt)
	for i, f := range frames {
		b = le.LittleEndian.AppendUint32(b, uint32(1000+i))
		b = le.LittleEndian.AppendUint32(b, 0)
		b = le.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = le.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ipv4SYN is an Ethernet frame of an IPv4 TCP SYN whose first IP byte is
// verIHL and Total Length total.
func ipv4SYN(verIHL byte, total uint16) []byte {
	f := []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
		verIHL, 0, byte(total >> 8), byte(total), 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	return append(f, 0x03, 0xe8, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0)
}

// TestBogusIPv4HeaderShown: IPv4 packets with an IHL under 5 or a Total
// Length shorter than the header are shown with Wireshark's message, in
// text and JSON, not left out.
func TestBogusIPv4HeaderShown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bogus.pcap")
	writePcap(t, path, 1, ipv4SYN(0x45, 40), ipv4SYN(0x43, 40), ipv4SYN(0x4f, 40), ipv4SYN(0x45, 40))
	want := map[int]string{
		2: "Bogus IP header length (12, must be at least 20)",
		3: "Bogus IP length (40, less than header length 60)",
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		// The words are Wireshark's own: its Info column says the same.
		out, err := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "_ws.col.Info").Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for n, msg := range want {
			if len(lines) < n || lines[n-1] != msg {
				t.Errorf("tshark says %q for frame %d; we say %q", lines, n, msg)
			}
		}
	}
	out, errOut, code := runTS("replay", "--color", "never", "--no-summary", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for n, msg := range want {
		if !strings.Contains(out, "frame "+string(rune('0'+n))+": "+msg) {
			t.Errorf("text output lacks frame %d's %q:\n%s", n, msg, out)
		}
	}
	if strings.Count(out, "\n") != 4 {
		t.Errorf("want 4 lines, one per frame:\n%s", out)
	}
	out, _, code = runTS("replay", "--json", "--no-summary", path)
	got := map[int]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Frame int
			Error string
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m.Error != "" {
			got[m.Frame] = m.Error
		}
	}
	if code != 0 || len(got) != 2 || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("exit %d; JSON error lines %v, want %v", code, got, want)
	}
}

// TestUnknownLinkTypeSaid: a link type tcpscope does not read is named
// once on stderr with its number and name, and the frames are counted;
// a file with nothing else exits 1.
func TestUnknownLinkTypeSaid(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		lt   uint32
		name string
	}{
		{147, "147 (USER0)"},
		{65535, "65535 (not in the tcpdump.org list of link types)"},
	} {
		path := filepath.Join(dir, "lt.pcap")
		writePcap(t, path, tc.lt, []byte("abcd"), []byte("efgh"), []byte("ijkl"))
		for _, args := range [][]string{{"replay"}, {"replay", "--json"}, {"stats"}, {"stats", "--json"}} {
			out, errOut, code := runTS(append(args, path)...)
			if code != 1 || out != "" {
				t.Errorf("%v on link type %d: exit %d, stdout %q; want 1 and nothing", args, tc.lt, code, out)
			}
			if strings.Count(errOut, "link type "+tc.name) != 2 || !strings.Contains(errOut, "all 3 frames skipped") || strings.Count(errOut, "\n") != 2 {
				t.Errorf("%v on link type %d: stderr %q", args, tc.lt, errOut)
			}
		}
	}
}

// TestGzipMessages: a gzip whose CRC is bad says so (after every frame
// read before it is shown), not "record header cut short"; a bad gzip
// header is prefixed "gzip:" once.
func TestGzipMessages(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(httpPcap)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	b := gz.Bytes()
	b[len(b)-8] ^= 0xFF // the trailer's CRC-32
	badCRC := filepath.Join(dir, "crc.pcap.gz")
	os.WriteFile(badCRC, b, 0o644)
	good, _, _ := runTS("replay", "--color", "never", "--no-summary", httpPcap)
	out, errOut, code := runTS("replay", "--color", "never", "--no-summary", badCRC)
	if code != 1 || !strings.Contains(errOut, "bad CRC-32 checksum") || strings.Contains(errOut, "cut short") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("bad CRC: exit %d, stderr %q", code, errOut)
	}
	if out != good {
		t.Errorf("bad CRC: the frames before the trailer are not all shown:\n%s", out)
	}

	badHeader := filepath.Join(dir, "hdr.pcap.gz")
	os.WriteFile(badHeader, []byte{0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 0o644)
	_, errOut, code = runTS("replay", badHeader)
	if code != 1 || strings.Count(errOut, "gzip:") != 1 || !strings.Contains(errOut, badHeader+": gzip: invalid header") {
		t.Errorf("bad header: exit %d, stderr %q", code, errOut)
	}
}
