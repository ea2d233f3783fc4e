package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blockedRun is a tcpscope process started with a stdin and a stdout the
// test controls: stdin a pipe the test keeps open (and silent), stdout
// either a buffer or a pipe nobody reads.
type blockedRun struct {
	cmd    *exec.Cmd
	stdinW *os.File
	errOut *syncBuffer
	done   chan error
}

func startBlocked(t *testing.T, stdin []byte, fullStdout bool, args ...string) *blockedRun {
	t.Helper()
	r := &blockedRun{cmd: exec.Command(binary(t), args...), errOut: &syncBuffer{}, done: make(chan error, 1)}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdin, r.stdinW = pr, pw
	if len(stdin) > 0 {
		go pw.Write(stdin) // may exceed the pipe buffer
	}
	if fullStdout {
		or, ow, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pinPipe(t, ow)
		r.cmd.Stdout = ow
		t.Cleanup(func() { or.Close() }) // held open, never read
		defer ow.Close()
	} else {
		r.cmd.Stdout = &syncBuffer{}
	}
	r.cmd.Stderr = r.errOut
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		pw.Close()
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// pcapHeader is a pcap file header (microseconds, Ethernet).
func pcapHeader() []byte {
	b, err := os.ReadFile(httpPcap)
	if err != nil {
		panic(err)
	}
	return b[:24]
}

// TestSignalsAtBlockingPoints: SIGINT and SIGTERM stop every command at
// every point where it waits (opening a FIFO with no writer, reading a
// silent pipe, inside gzip, writing to a full stdout): exit 130 within a
// second, nothing on stderr (no "context canceled", no stack trace).
func TestSignalsAtBlockingPoints(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pcapHeader())
	zw.Flush() // a gzip stream cut in its middle: inflating waits for more
	big, err := os.ReadFile("../../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name  string
		stdin []byte
		full  bool
		args  []string
	}
	var cases []tc
	for _, cmd := range [][]string{{"replay"}, {"stats"}, {"follow", "--stream", "0"}, {"ladder", "--stream", "0"}, {"graph", "--stream", "0", "-o", "-"}} {
		cases = append(cases,
			tc{cmd[0] + " FIFO without a writer", nil, false, append(append([]string{}, cmd...), fifo)},
			tc{cmd[0] + " silent pipe", pcapHeader(), false, append(append([]string{}, cmd...), "-")},
		)
	}
	cases = append(cases,
		tc{"replay silent pipe, nothing sent", nil, false, []string{"replay", "-"}},
		tc{"replay gzip cut short on a pipe", gz.Bytes(), false, []string{"replay", "-"}},
		tc{"stats gzip cut short on a pipe", gz.Bytes(), false, []string{"stats", "-"}},
		tc{"replay full stdout", nil, true, []string{"replay", "--color", "never", "../../pcaps/lo-bulk-loss.pcap"}},
		tc{"replay full stdout, capture on a pipe", big, true, []string{"replay", "--json", "-"}},
		tc{"follow full stdout", nil, true, []string{"follow", "--stream", "0", "--raw", "../../pcaps/lo-bulk-loss.pcap"}},
	)
	for _, c := range cases {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(fmt.Sprintf("%s/%v", c.name, sig), func(t *testing.T) {
				t.Parallel()
				r := startBlocked(t, c.stdin, c.full, c.args...)
				time.Sleep(400 * time.Millisecond) // into the blocking point
				if r.cmd.ProcessState != nil {
					t.Fatalf("exited before the signal: %s", r.errOut.String())
				}
				sent := time.Now()
				if err := r.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				select {
				case <-r.done:
				case <-time.After(time.Second):
					t.Fatalf("still running a second after %v; stderr: %s", sig, r.errOut.String())
				}
				code := r.cmd.ProcessState.ExitCode()
				stderr := r.errOut.String()
				noStackTrace(t, stderr)
				if code != 130 || strings.TrimSpace(stderr) != "" {
					t.Errorf("exit %d after %v, stderr %q; want 130 and nothing", code, time.Since(sent).Round(time.Millisecond), stderr)
				}
			})
		}
	}
}
