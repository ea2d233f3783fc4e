package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// TestEchoServerIdleTimeoutFlag: with --idle-timeout 300ms an idle client
// is closed and the client queued behind it is served; the server says why
// on stderr.
func TestEchoServerIdleTimeoutFlag(t *testing.T) {
	addr := freePort(t)
	var srvOut, srvErr syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"tcpscope", "server", "-q", "--addr", addr, "--max-conns", "2", "--idle-timeout", "300ms"}, nil, &srvOut, &srvErr)
	}()
	waitListening(t, &srvOut)
	idler, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idler.Close()
	time.Sleep(50 * time.Millisecond)
	var out, errb bytes.Buffer
	start := time.Now()
	if code := run([]string{"tcpscope", "client", "-q", addr, "next"}, nil, &out, &errb); code != 0 || out.String() != "next\n" {
		t.Fatalf("client behind the idler: exit %d, %q, %s", code, out.String(), errb.String())
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("the second client waited %v, want about the 300ms idle timeout", d)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("server exit %d: %s", code, srvErr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after --max-conns 2")
	}
	if !strings.Contains(srvErr.String(), "idle for 300ms: closed the connection to serve the next client") {
		t.Errorf("server stderr %q", srvErr.String())
	}
}

// TestEchoServerLimitFlagsOff: 0 switches the limits off on the command
// line; a bad duration is a usage error (exit 2).
func TestEchoServerLimitFlagsOff(t *testing.T) {
	if offIfZero(0) >= 0 || offIfZero(5*time.Second) != 5*time.Second {
		t.Errorf("offIfZero(0) = %v, offIfZero(5s) = %v", offIfZero(0), offIfZero(5*time.Second))
	}
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "server", "-q", "--idle-timeout", "soon"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("--idle-timeout soon: exit %d, %q", code, errb.String())
	}
}
