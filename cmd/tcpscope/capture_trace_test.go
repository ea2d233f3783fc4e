package main

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// buildExample compiles examples/c/NAME.c into a directory every user can
// read (the programs run as nobody when the tests run as root).
func buildExample(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("skipping: no C compiler (cc)")
	}
	dir := exampleDir(t)
	out := filepath.Join(dir, name)
	if b, err := exec.Command("cc", "-O2", "-o", out, filepath.Join("..", "..", "examples", "c", name+".c")).CombinedOutput(); err != nil {
		t.Fatalf("cc %s: %v\n%s", name, err, b)
	}
	return out
}

// TestCaptureRunTrace: capture --run CMD --trace shows the C HTTP client's
// calls among the live segments: connect before the SYN, the request's
// write before its data segment, close before the client's FIN.
func TestCaptureRunTrace(t *testing.T) {
	testroot.Need(t)
	cli := buildExample(t, "http")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 1024)
		c.Read(buf)
		c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhi\n"))
		c.Close()
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, errOut, err := runBin(t, "capture", "--color", "never", "--run", cli+" 127.0.0.1 "+port, "--trace", "tcp", "port", port)
	if err != nil {
		t.Fatalf("capture --run --trace: %v\n%s\n%s", err, out, errOut)
	}
	assertOrder(t, out,
		"http connect(3, {sa_family=AF_INET, sin_port=htons("+port+")",
		"[SYN]",
		"[SYN,ACK]",
		`http write(3, "GET / HTTP/1.1\r\n`,
		"len "+strconv.Itoa(len("GET / HTTP/1.1\r\nHost: 127.0.0.1:"+port+"\r\nConnection: close\r\n\r\n")),
		`http read(3, "HTTP/1.0 200 OK`,
		"http close(3) = 0",
		"127.0.0.1:"+port+"  [FIN,ACK]",
	)
	if !strings.Contains(errOut, "hi") {
		t.Errorf("the program's output is missing from stderr:\n%s", errOut)
	}
	// Each traced call has its plain note, as in the demo.
	for _, w := range []string{"}, 16) = 0  ▸ sends SYN", "http close(3) = 0  ▸ sends FIN once the send queue is empty"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// assertOrder checks that each of want appears in out after the previous.
func assertOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	pos := 0
	for _, w := range want {
		i := strings.Index(out[pos:], w)
		if i < 0 {
			t.Fatalf("output lacks %q after position %d:\n%s", w, pos, out)
		}
		pos += i + len(w)
	}
}
