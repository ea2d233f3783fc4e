package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/ref/echo"
)

// echoSession is a real loopback recording of a two-line echo dialogue
// (see sendreplay/testdata/README.md for how it was made).
const echoSession = "../../sendreplay/testdata/echo-session.pcap"

func startRefEcho(t *testing.T) string {
	t.Helper()
	srv, err := echo.Listen(echo.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); srv.Close(); <-done })
	return srv.Addr().String()
}

func TestSendIdentical(t *testing.T) {
	addr := startRefEcho(t)
	var out, errb bytes.Buffer
	code := run([]string{"tcpscope", "send", echoSession, "--to", addr}, nil, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.HasSuffix(out.String(), "identical (47 bytes)\n") || !strings.Contains(out.String(), "sent 47 bytes in 2 writes") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestSendMismatch(t *testing.T) {
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
		defer c.Close()
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.Write(bytes.ToUpper(buf[:n])) // "HELLO, ECHO\n"
	}()
	var out, errb bytes.Buffer
	code := run([]string{"tcpscope", "send", "--wait", "300ms", echoSession, "--to", ln.Addr().String()}, nil, &out, &errb)
	if code != exitMismatch {
		t.Fatalf("exit %d, want %d: %s%s", code, exitMismatch, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "differs at byte 0 (counting from 0): captured 'h' (0x68), received 'H' (0x48)") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestSendErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"send", echoSession, "--to", closed}, exitError, "tcpscope: connect to " + closed + ": connection refused"},
		{[]string{"send", "no-such.pcap", "--to", closed}, exitError, "tcpscope: no-such.pcap: no such file or directory"},
		{[]string{"send", "send.go", "--to", closed}, exitError, "tcpscope: send.go: not a pcap or pcapng file"},
		{[]string{"send", echoSession, "--to", closed, "--stream", "4"}, exitUsage, "no such stream 4: the capture holds 1 TCP stream"},
		{[]string{"send", "../../pcaps/zeek-tcp-syn-then-stuff-then-rst.pcap", "--stream", "0", "--to", closed}, exitError, "the client sent no data"},
		{[]string{"send", echoSession}, exitUsage, `send needs --to HOST:PORT`},
		{[]string{"send", echoSession, "--to", "nowhere"}, exitUsage, `--to "nowhere": want HOST:PORT`},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"tcpscope"}, tc.args...), nil, &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code != tc.code || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, %q; want exit %d and one line containing %q", tc.args, code, msg, tc.code, tc.msg)
		}
	}
}
