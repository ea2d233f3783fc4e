package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpscope/tcpscope/replay"
)

// stretchedCapture writes a copy of a real capture whose timestamps are
// rescaled to span exactly span, keeping the relative spacing of frames.
func stretchedCapture(t *testing.T, src string, span time.Duration) string {
	t.Helper()
	f, err := replay.Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type fr struct {
		data []byte
		at   time.Time
		orig int
	}
	var frames []fr
	for {
		x, err := f.Next()
		if err != nil {
			break
		}
		frames = append(frames, fr{append([]byte(nil), x.Data...), x.Meta.Time, x.Meta.OrigLen})
	}
	if len(frames) < 2 {
		t.Fatalf("%s: too few frames", src)
	}
	first, last := frames[0].at, frames[len(frames)-1].at
	scale := float64(span) / float64(last.Sub(first))
	out := filepath.Join(t.TempDir(), "stretched.pcap")
	o, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	w := pcapgo.NewWriterNanos(o)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, x := range frames {
		ts := first.Add(time.Duration(float64(x.at.Sub(first)) * scale))
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(x.data), Length: x.orig}
		if err := w.WritePacket(ci, x.data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSpeedOneKeepsRealTime: a real capture stretched to span 2 s plays
// back, at --speed 1, in 2 s within 5 %, measured on the wall clock.
func TestSpeedOneKeepsRealTime(t *testing.T) {
	const span = 2 * time.Second
	path := stretchedCapture(t, "../../pcaps/tcpdump-print-flags.pcap", span)
	var out, errb bytes.Buffer
	start := time.Now()
	code := run([]string{"tcpscope", "replay", "--speed", "1", "--no-summary", path}, nil, &out, &errb)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 10 {
		t.Errorf("%d segments shown, want 10", n)
	}
	lo, hi := span*95/100, span*105/100
	t.Logf("2.000 s capture played back in %.3f s at --speed 1", took.Seconds())
	if took < lo || took > hi {
		t.Fatalf("played back in %v, want %v–%v", took, lo, hi)
	}
}

// TestSpeedInterrupt: Ctrl-C during a paced replay stops it at once and the
// summary of what was shown is still printed.
func TestSpeedInterrupt(t *testing.T) {
	path := stretchedCapture(t, "../../pcaps/tcpdump-print-flags.pcap", 20*time.Second)
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- run([]string{"tcpscope", "replay", "--speed", "1", "--color", "never", path}, nil, &out, &errb)
	}()
	time.Sleep(300 * time.Millisecond) // run() has installed its signal handler
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("replay did not stop within 3 s of Ctrl-C")
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("stopped after %v; want at once", took)
	}
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
	if !strings.Contains(out.String(), "1 connection:") || !strings.HasPrefix(out.String(), "#1 ") {
		t.Errorf("want the first segments and the summary, got:\n%s", out.String())
	}
	if strings.Contains(out.String(), "#10 ") {
		t.Errorf("the last segment (at 20 s) was shown:\n%s", out.String())
	}
}

func TestSpeedUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"tcpscope", "replay", "--speed", "-1", "../../pcaps/tcpdump-print-flags.pcap"}, nil, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errb.String())
	}
	if !strings.Contains(errb.String(), "--speed -1") {
		t.Errorf("message %q does not name the value", errb.String())
	}
}
