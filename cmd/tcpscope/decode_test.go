package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runDecode runs "tcpscope decode args…" in-process.
func runDecode(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"tcpscope", "decode"}, args...), strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func TestDecodeCLIFrame(t *testing.T) {
	code, out, _ := runDecode("../../pcaps/tcpdump-print-flags.pcap", "--frame", "4", "--color", "never")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Frame 4 · stream 0", "ntohs(da 70) = 55920", "ntohl(", "Payload ·", "0 1 2 3 4 5 6 7 8 9 0 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("--color never printed escape codes")
	}
}

func TestDecodeCLIDefaultIsFirstTCPFrame(t *testing.T) {
	code, out, errOut := runDecode("../../pcaps/tcpdump-print-flags.pcap")
	if code != 0 || !strings.HasPrefix(out, "Frame 1 ") || !strings.Contains(errOut, "--frame N") {
		t.Errorf("exit %d, output starts %q, stderr %q", code, firstLine(out), errOut)
	}
}

func TestDecodeCLIStreamJSON(t *testing.T) {
	code, out, _ := runDecode("../../pcaps/tcpdump-print-flags.pcap", "--stream", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d JSON lines for stream 0", len(lines))
	}
	prev := 0
	for _, l := range lines {
		var e struct {
			Frame  int `json:"frame"`
			Stream *int
			Layers []struct {
				Key    string `json:"key"`
				Fields []struct {
					Key   string  `json:"key"`
					Value *uint64 `json:"value"`
				} `json:"fields"`
			} `json:"layers"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %v: %s", err, l)
		}
		if e.Stream == nil || *e.Stream != 0 || e.Frame <= prev {
			t.Errorf("frame %d: stream %v (previous frame %d)", e.Frame, e.Stream, prev)
		}
		prev = e.Frame
		ports := 0
		for _, ly := range e.Layers {
			for _, f := range ly.Fields {
				if (f.Key == "tcp.srcport" || f.Key == "tcp.dstport") && f.Value != nil && (*f.Value == 80 || *f.Value == 55920) {
					ports++
				}
			}
		}
		if ports != 2 {
			t.Errorf("frame %d: ports are not 55920 and 80", e.Frame)
		}
	}
}

func TestDecodeCLIErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"../../pcaps/tcpdump-print-flags.pcap", "--frame", "100000"}, exitError, "frame 100000 does not exist"},
		{[]string{"../../pcaps/tcpdump-print-flags.pcap", "--stream", "999"}, exitError, "stream 999 does not exist"},
		{[]string{"../../pcaps/pcapplusplus-raw_ip.pcap", "--frame", "51"}, exitError, "is not TCP (IPv4 protocol 17)"},
		{[]string{"../../pcaps/tcpdump-print-flags.pcap", "--frame", "0"}, exitUsage, "numbered from 1"},
		{[]string{"../../pcaps/tcpdump-print-flags.pcap", "--frame", "1", "--stream", "0"}, exitUsage, "not both"},
		{[]string{}, exitUsage, "needs exactly one capture file"},
		{[]string{"no-such-file.pcap"}, exitError, "no-such-file.pcap"},
	}
	for _, c := range cases {
		code, _, errOut := runDecode(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("decode %v: exit %d, stderr %q; want exit %d and one line with %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
