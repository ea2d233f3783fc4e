package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpscope/tcpscope/internal/golden"
	"github.com/tcpscope/tcpscope/ref/sock"
)

var update = flag.Bool("update", false, "rewrite golden files")

// callSamples is one of each kind of call the demo shows.
func callSamples() []sock.Event {
	v4 := netip.MustParseAddrPort("127.0.0.1:8080")
	return []sock.Event{
		{Who: "server", Call: "socket", FD: -1, Domain: sock.IPv4, Type: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP, Ret: 5},
		{Who: "server", Call: "setsockopt", FD: 5, Level: unix.SOL_SOCKET, Option: unix.SO_REUSEADDR, Value: 1},
		{Who: "server", Call: "bind", FD: 5, Addr: v4},
		{Who: "server", Call: "listen", FD: 5, Backlog: 128},
		{Who: "server", Call: "getsockname", FD: 5, Addr: v4},
		{Who: "client", Call: "getaddrinfo", FD: -1, Host: "127.0.0.1", Addrs: []netip.Addr{v4.Addr()}},
		{Who: "client", Call: "connect", FD: 11, Addr: netip.MustParseAddrPort("[::1]:8080")},
		{Who: "server", Call: "accept", FD: 5, Ret: 12, Addr: netip.MustParseAddrPort("127.0.0.1:41939")},
		{Who: "client", Call: "write", FD: 11, Count: 13, Ret: 13, Data: []byte("hello, world\n")},
		{Who: "server", Call: "read", FD: 12, Count: 4096, Ret: 40, Data: []byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x01")},
		{Who: "client", Call: "setsockopt", FD: 11, Level: unix.SOL_SOCKET, Option: unix.SO_LINGER, Linger: &sock.Linger{Onoff: 1}},
		{Who: "client", Call: "shutdown", FD: 11, How: sock.ShutWR},
		{Who: "server", Call: "read", FD: 12, Count: 4096, Err: unix.ECONNRESET},
		{Who: "client", Call: "connect", FD: 11, Addr: v4, Err: unix.ECONNREFUSED},
		{Who: "server", Call: "accept", FD: 5, Err: net.ErrClosed},
		{Who: "client", Call: "close", FD: 11},
	}
}

// TestCallGolden: the call lines of the text timeline and of --json.
func TestCallGolden(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var text, js bytes.Buffer
	tx := &Text{W: &text, Theme: NewTheme(false), Start: start, StrSize: 32}
	j := &JSON{W: &js, Start: start}
	for i, e := range callSamples() {
		at := start.Add(time.Duration(i) * 37 * time.Microsecond)
		e.Took = 2 * time.Microsecond
		var details []string
		if e.Call == "bind" {
			details = e.Details(sock.LittleEndian)
		}
		if err := tx.Call(e, at, "note "+e.Call, details); err != nil {
			t.Fatal(err)
		}
		if err := j.Call(e, at, "note "+e.Call, 32); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, "testdata/calls.txt.golden", text.Bytes(), *update)
	golden.Check(t, "testdata/calls.jsonl.golden", js.Bytes(), *update)
	if !strings.Contains(text.String(), "bytes 1f 90 on the wire") {
		t.Errorf("bind details do not show port 8080 in network order (1f 90):\n%s", text.String())
	}

	// Every JSON line parses, with the keys docs/packet-json.md names.
	for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s: %v", line, err)
		}
		for _, k := range []string{"call", "side", "args", "ret", "time", "rel_time"} {
			if _, ok := m[k]; !ok {
				t.Errorf("no %q in %s", k, line)
			}
		}
		if m["ret"].(float64) == -1 && m["error"] == nil {
			t.Errorf("failed call without error: %s", line)
		}
	}
	var bind struct {
		FD   int `json:"fd"`
		Args struct {
			Addr struct {
				Family string
				Port   int
				Addr   string
			}
			Addrlen int
		}
	}
	line := strings.Split(js.String(), "\n")[2]
	if err := json.Unmarshal([]byte(line), &bind); err != nil {
		t.Fatal(err)
	}
	if bind.FD != 5 || bind.Args.Addr.Family != "AF_INET" || bind.Args.Addr.Port != 8080 || bind.Args.Addr.Addr != "127.0.0.1" || bind.Args.Addrlen != 16 {
		t.Errorf("bind object: %+v from %s", bind, line)
	}
	if !strings.Contains(js.String(), `"errno":"ECONNREFUSED"`) {
		t.Errorf("the refused connect has no errno key:\n%s", js.String())
	}
}

// TestPayloadNote: the bytes of a data segment, as strace quotes a write,
// and HTTP start lines by name.
func TestPayloadNote(t *testing.T) {
	for _, tt := range []struct {
		note, payload string
		n, strsize    int
		want          string
	}{
		{"13 bytes of data", "hello, world\n", 13, 32, `13 bytes of data: "hello, world\n"`},
		{"13 bytes of data", "hello, world\n", 13, 5, `13 bytes of data: "hello"...`},
		{"retransmission of #4", "hello", 5, 32, `retransmission of #4; data "hello"`},
		{"100 bytes of data", "hello", 100, 32, `100 bytes of data: "hello"...`}, // the capture kept 5
		{"109 bytes of data", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 37, 32, "109 bytes of data; HTTP request: GET /index.html HTTP/1.1"},
		{"358 bytes of data", "HTTP/1.1 200 OK\r\nDate: x\r\n", 26, 32, "358 bytes of data; HTTP response: HTTP/1.1 200 OK"},
		{"3 bytes of data", "GET", 3, 32, `3 bytes of data: "GET"`},
		{"ACK", "", 0, 32, "ACK"},
	} {
		got := string(AppendPayloadNote([]byte(tt.note), []byte(tt.payload), tt.n, tt.strsize))
		if got != tt.want {
			t.Errorf("%q + %q:\n got %s\nwant %s", tt.note, tt.payload, got, tt.want)
		}
	}
}
