package dfilter_test

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/dfilter"
	"github.com/tcpscope/tcpscope/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCompiles lists filters that must compile: every form of the
// language, including tcpscope's leniencies (sets without commas, as
// Wireshark before 4.0 wrote them).
func TestCompiles(t *testing.T) {
	for _, e := range []string{
		"tcp", "tcp.analysis.flags", "!tcp.analysis.flags", "not tcp.analysis.flags",
		"tcp.port == 80", "tcp.port eq 80", "tcp.port != 80", "tcp.port ne 80", "tcp.port ~= 80",
		"tcp.port !== 80", "tcp.port === 80", "tcp.len < 1", "tcp.len lt 1", "tcp.len <= 1", "tcp.len le 1",
		"tcp.len > 1", "tcp.len gt 1", "tcp.len >= 1", "tcp.len ge 1", "80 == tcp.port",
		"tcp.port in {80 443 8000..8100}", "tcp.port in {80, 443, 8000 .. 8100}", "tcp.port in {80}",
		"tcp.payload contains \"GET\"", "tcp.payload contains 47:45:54", "tcp.payload matches \"^get\"",
		"tcp.payload matches r\"\\d+\"", "tcp.payload[0:4] == 47:45:54:20", "tcp.payload[1] == 45",
		"tcp.payload[1-3] == 45:54:20", "tcp.payload[:2] == 47.45", "tcp.payload[2:] == 474554",
		"tcp.payload[-2:] == 0d-0a", "ip.addr == 10.0.0.0/8", "ip.src == 192.168.1.1", "ipv6.addr == ::1",
		"ipv6.src == 2001:db8::/32", "eth.src == 00:11:22:33:44:55", "eth.addr[0:3] == 00:11:22",
		"ip.src[0] == 0a", "tcp.seq == 0x10", "tcp.seq == 010", "frame.number == 0b101",
		"tcp.analysis.ack_rtt > 0.2", "tcp.analysis.ack_rtt > 1", "frame.time_relative >= -0.5",
		"tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.flags.syn == True", "tcp.flags & 0x12",
		"tcp.flags & 0x12 == 0x12", "tcp.srcport == tcp.dstport", "len(tcp.payload) > 3",
		"count(tcp.options.sack_le) >= 2", "(tcp.port == 80 || tcp.port == 443) and !(ip.addr == 10.0.0.1)",
		"tcp.payload contains \"\\x47\\105T\\u0020\\\\\\\"\"", "tcp.analysis.retransmission and tcp.stream == 3",
	} {
		if _, err := dfilter.Compile(e); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
}

// TestErrors checks the message and the caret of each kind of error
// against testdata/errors.golden.
func TestErrors(t *testing.T) {
	var out strings.Builder
	for _, e := range []string{
		"", "tcp.analysis.retransmision", "tcp.analysis.retransmision && tcp.stream == 3",
		"tcp.strem == 3", "tcp.stream == tcp.strem", "tcp.port == 80 ||", "(tcp.port == 80",
		"tcp.port == 80)", "tcp.port == 80 &&& 1", "tcp.port == 80 == 1", "tcp.port in 80",
		"tcp.port in {}", "tcp.port in {80 443", "tcp.port == \"80\"", "tcp.port == 1.5",
		"tcp.port == x", "tcp.analysis.ack_rtt > 200ms", "tcp.analysis.ack_rtt > 2e-1",
		"ip.addr == localhost", "ip.addr == ::1", "ip.src == 10.0.0.0/33", "ipv6.addr == 10.0.0.1",
		"eth.src == 00:11:22", "tcp.payload == zz", "tcp.flags.syn == yes",
		"tcp.analysis.flags == 1", "tcp contains 47", "tcp.port contains 80", "tcp.port matches \"8\"",
		"tcp.payload matches GET", "tcp.payload matches \"(\"", "tcp.port[0:2] == 00:50",
		"tcp.payload[a:b] == 00", "tcp.payload[0:2,4] == 00", "tcp.payload == \"unterminated",
		"tcp.payload contains \"\\q\"", "ip.src == ipv6.src", "tcp.port # 80", "80 == 443",
		"lenn(tcp.payload) > 3", "len(tcp.port) > 3", "tcp.payload & 0x01", "tcp.port == 80 and",
		"not", "tcp.port in {80..}", "tcp.payload contains \"é\" or tcp.strem", "tcp.port ≠ 80",
	} {
		_, err := dfilter.Compile(e)
		var de *dfilter.Error
		if !errors.As(err, &de) {
			t.Errorf("%q: want a *dfilter.Error, got %v", e, err)
			continue
		}
		if strings.Contains(de.Error(), "\n") {
			t.Errorf("%q: the message is more than one line: %q", e, de.Error())
		}
		out.WriteString(de.Error() + "\n" + de.Caret("    ") + "\n\n")
	}
	golden.Check(t, "testdata/errors.golden", []byte(out.String()), *update)
}
