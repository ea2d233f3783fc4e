package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// demoOut runs the demo with args (and --color never, -w to a temporary
// file) and returns stdout and stderr.
func demoOut(t *testing.T, args ...string) (string, string) {
	t.Helper()
	pc := filepath.Join(t.TempDir(), "demo.pcapng")
	all := append([]string{"demo", "--color", "never", "-w", pc}, args...)
	out, errOut, err := runBin(t, all...)
	if err != nil {
		t.Fatalf("demo %v: %v\n%s\n%s", args, err, out, errOut)
	}
	return out, errOut
}

// mustMatch returns the first match of re in s, or fails.
func mustMatch(t *testing.T, s, re string) []string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no line matches %s in:\n%s", re, s)
	}
	return m
}

// TestDemoCallLines: the socket calls as strace prints them, with the
// sockaddr's htons and inet_addr, the data of reads and writes, the
// same bytes on the segment that carried them, and a plain note per call.
func TestDemoCallLines(t *testing.T) {
	testroot.Need(t)
	out, _ := demoOut(t)
	mustMatch(t, out, `server socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = \d+  ▸ a new TCP endpoint`)
	mustMatch(t, out, `server bind\(\d+, \{sa_family=AF_INET, sin_port=htons\(0\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = 0  ▸ port 0: the kernel picks`)
	mustMatch(t, out, `server listen\(\d+, 128\) = 0  ▸ the kernel now completes handshakes on its own, up to 128 waiting`)
	port := mustMatch(t, out, `server getsockname\(\d+, \{sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, \[16\]\) = 0  ▸ the port the kernel chose: (\d+)`)
	if port[1] != port[2] {
		t.Errorf("getsockname shows port %s, its note %s", port[1], port[2])
	}
	// The port getsockname read back is the port of the SYN's destination.
	mustMatch(t, out, `#1 .*→ 127\.0\.0\.1:`+port[1]+` +\[SYN\]`)
	mustMatch(t, out, `client connect\(\d+, \{sa_family=AF_INET, sin_port=htons\(`+port[1]+`\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = 0  ▸ sends SYN`)
	est := mustMatch(t, out, `\n#(\d+) .*handshake 3/3`)
	mustMatch(t, out, `server accept\(\d+, \{sa_family=AF_INET, sin_port=htons\(\d+\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, \[16\]\) = \d+  ▸ returns a connection the kernel already established in #`+est[1]+`, [0-9.]+ [µm]?s earlier: it waited in the listen backlog`)
	mustMatch(t, out, `client write\(\d+, "hello, TCP\\n", 11\) = 11  ▸ copies 11 bytes into the send buffer`)
	mustMatch(t, out, `11 bytes of data: "hello, TCP\\n"`)
	// Cut at 32 bytes, as strace -s 32.
	mustMatch(t, out, `client write\(\d+, "network byte order is big-endian"\.\.\., 33\) = 33`)
	mustMatch(t, out, `server read\(\d+, "", 4096\) = 0  ▸ returns 0: the peer sent FIN`)
	mustMatch(t, out, `client close\(\d+\) = 0  ▸ sends FIN once the send queue is empty`)

	// --strsize and --explain.
	out, _ = demoOut(t, "--strsize", "5", "--explain")
	mustMatch(t, out, `client write\(\d+, "hello"\.\.\., 11\) = 11`)
	mustMatch(t, out, `11 bytes of data: "hello"\.\.\.`)
	p := mustMatch(t, out, `server getsockname\(\d+, \{sa_family=AF_INET, sin_port=htons\((\d+)\)`)
	var n int
	fmt.Sscan(p[1], &n)
	mustMatch(t, out, fmt.Sprintf(`sin_port = htons\(%d\) = 0x%04x → bytes %02x %02x on the wire`, n, n, n>>8, n&0xff))
	// The field view calls the server's port the server's, from the SYN's
	// direction, though the kernel chose it from the ephemeral range.
	mustMatch(t, out, fmt.Sprintf(`Destination Port +ntohs\(%02x %02x\) = %d .*the server's port \(the SYN went to it\)`, n>>8, n&0xff, n))
	if strings.Contains(out, "probably an ephemeral") {
		t.Errorf("the field view still guesses a port from its number though the handshake was seen")
	}
}

// TestDemoCallLinesIPv6HTTP: sockaddr_in6 as strace prints it, and the
// HTTP request and status lines named on the segments that carried them.
func TestDemoCallLinesIPv6HTTP(t *testing.T) {
	testroot.Need(t)
	out, _ := demoOut(t, "http", "--ipv6")
	mustMatch(t, out, `server bind\(\d+, \{sa_family=AF_INET6, sin6_port=htons\(0\), sin6_flowinfo=htonl\(0\), inet_pton\(AF_INET6, "::1", &sin6_addr\), sin6_scope_id=0\}, 28\) = 0`)
	mustMatch(t, out, `client write\(\d+, "GET /index\.html HTTP/1\.1\\r\\nHost: "\.\.\., \d+\) = \d+`)
	mustMatch(t, out, `\n#\d+ .*\[::1\]:\d+ → \[::1\]:\d+ .*bytes of data; HTTP request: GET /index\.html HTTP/1\.1\n`)
	mustMatch(t, out, `\n#\d+ .*bytes of data; HTTP response: HTTP/1\.1 200 OK\n`)
}

// TestDemoJSONCalls: with --json, stdout holds JSON lines only, the socket
// calls among the segments in the timeline's order; the summary and
// everything else goes to stderr.
func TestDemoJSONCalls(t *testing.T) {
	testroot.Need(t)
	for _, args := range [][]string{{"--json"}, {"http", "--json", "--ipv6"}} {
		out, errOut := demoOut(t, args...)
		type line struct {
			Call  string `json:"call"`
			Side  string `json:"side"`
			FD    *int   `json:"fd"`
			Ret   *int   `json:"ret"`
			Frame int    `json:"frame"`
			Flags []string
			Note  string
			Time  string   `json:"time"`
			Rel   *float64 `json:"rel_time"`
			Args  struct {
				Addr *struct {
					Family string
					Port   int
					Addr   string
				}
				Data string
			}
		}
		var lines []line
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var m line
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("demo %v: stdout line is not JSON: %q (%v)", args, l, err)
			}
			if m.Time == "" || m.Rel == nil {
				t.Errorf("no time/rel_time: %s", l)
			}
			if m.Call != "" && (m.Side == "" || m.Ret == nil || (m.Call != "socket" && m.Call != "getaddrinfo" && m.FD == nil)) {
				t.Errorf("call without side, fd or ret: %s", l)
			}
			lines = append(lines, m)
		}
		if strings.Contains(errOut, `{"`) || !strings.Contains(errOut, "1 connection:") {
			t.Errorf("stderr should hold the summary and no JSON:\n%s", errOut)
		}
		// The story's order: listen, SYN, handshake ACK, accept (after it),
		// a write before the segment that carried its data.
		at := func(ok func(line) bool) int {
			for i, l := range lines {
				if ok(l) {
					return i
				}
			}
			t.Fatalf("demo %v: no such line in\n%s", args, out)
			return -1
		}
		listen := at(func(l line) bool { return l.Call == "listen" })
		syn := at(func(l line) bool { return l.Frame == 1 })
		est := at(func(l line) bool { return strings.HasPrefix(l.Note, "handshake 3/3") })
		acc := at(func(l line) bool { return l.Call == "accept" })
		write := at(func(l line) bool { return l.Call == "write" && l.Side == "client" })
		data := at(func(l line) bool { return l.Frame != 0 && strings.Contains(l.Note, "bytes of data") })
		if !(listen < syn && syn < est && est < acc && write < data) {
			t.Errorf("demo %v: order listen %d, SYN %d, handshake ACK %d, accept %d, write %d, data %d", args, listen, syn, est, acc, write, data)
		}
		if !strings.Contains(lines[acc].Note, fmt.Sprintf("established in #%d", lines[est].Frame)) {
			t.Errorf("accept note %q does not name frame #%d", lines[acc].Note, lines[est].Frame)
		}
		b := lines[at(func(l line) bool { return l.Call == "bind" })]
		want := "127.0.0.1"
		fam := "AF_INET"
		if len(args) > 2 {
			want, fam = "::1", "AF_INET6"
		}
		if b.Args.Addr == nil || b.Args.Addr.Family != fam || b.Args.Addr.Addr != want || b.Args.Addr.Port != 0 {
			t.Errorf("bind args: %+v", b.Args.Addr)
		}
		if lines[write].Args.Data == "" {
			t.Errorf("client write has no data")
		}
	}
}
