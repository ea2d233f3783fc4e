package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/testroot"
	"github.com/tcpscope/tcpscope/replay"
)

// framesOf reads every frame of a capture (copies of the data).
func framesOf(t *testing.T, r io.Reader) []frame.Frame {
	t.Helper()
	src, err := replay.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var fs []frame.Frame
	for {
		f, err := src.Next()
		if err == io.EOF {
			return fs
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Data = append([]byte(nil), f.Data...)
		fs = append(fs, f)
	}
}

// TestReplayWrite: replay -w saves exactly the frames shown, records
// byte-identical with their time stamps; in pcapng each carries its note
// as a packet comment, which tshark reads back as frame.comment.
func TestReplayWrite(t *testing.T) {
	in := "../../pcaps/zeek-tcp-retransmit-fast009.pcap"
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	orig := framesOf(t, bytes.NewReader(data))
	dir := t.TempDir()
	for _, name := range []string{"out.pcapng", "out.pcap"} {
		out := filepath.Join(dir, name)
		lines, errs, code := runCLI(t, nil, "replay", in, "--frames", "28-33", "-w", out, "--no-summary")
		if code != 0 || !strings.Contains(errs, "wrote 6 frames to "+out) {
			t.Fatalf("%s: exit %d, %q", name, code, errs)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		got := framesOf(t, f)
		f.Close()
		if len(got) != 6 {
			t.Fatalf("%s: %d frames, want 6", name, len(got))
		}
		for i, g := range got {
			o := orig[27+i]
			if !bytes.Equal(g.Data, o.Data) || !g.Meta.Time.Equal(o.Meta.Time) || g.Meta.OrigLen != o.Meta.OrigLen {
				t.Errorf("%s: frame %d differs from frame %d of the input", name, i+1, 28+i)
			}
		}
		if name != "out.pcapng" {
			continue
		}
		if _, err := exec.LookPath("tshark"); err != nil {
			t.Log("tshark not installed: comments not checked")
			continue
		}
		b, err := exec.Command("tshark", "-r", out, "-T", "fields", "-e", "frame.comment").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		var notes []string
		for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
			notes = append(notes, l[strings.Index(l, "▸ ")+len("▸ "):])
		}
		if c := strings.Split(strings.TrimSpace(string(b)), "\n"); strings.Join(c, "|") != strings.Join(notes, "|") {
			t.Errorf("comments as tshark reads them:\n%q\nwant the notes\n%q", c, notes)
		}
	}
	// An existing file is not overwritten without --force.
	if _, errs, code := runCLI(t, nil, "replay", in, "-w", filepath.Join(dir, "out.pcap")); code != exitError || !strings.Contains(errs, "--force") {
		t.Errorf("existing -w file: exit %d, %q", code, errs)
	}
	// -w -: the capture on stdout, the lines on stderr.
	out, errs, code := runCLI(t, nil, "replay", in, "--stream", "0", "-c", "3", "-w", "-", "--no-summary")
	if code != 0 {
		t.Fatalf("-w -: exit %d: %s", code, errs)
	}
	if got := framesOf(t, strings.NewReader(out)); len(got) != 3 || len(segLines(errs)) != 3 {
		t.Errorf("-w -: %d frames on stdout, stderr %q", len(got), errs)
	}
}

// notesOf returns the notes of replay's text lines (after "▸ ").
func notesOf(lines string) []string {
	var notes []string
	for _, l := range segLines(lines) {
		if i := strings.Index(l, "▸ "); i >= 0 {
			notes = append(notes, l[i+len("▸ "):])
		}
	}
	return notes
}

// tsharkComments reads frame.comment of every frame with tshark.
func tsharkComments(t *testing.T, path string) []string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	b, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestReplayWriteCommentsWithStates: a whole connection's comments carry
// the state changes the lines show, word for word.
func TestReplayWriteCommentsWithStates(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flags.pcapng")
	lines, errs, code := runCLI(t, nil, "replay", "../../pcaps/tcpdump-print-flags.pcap", "-w", out, "--no-summary")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	notes := notesOf(lines)
	if !strings.Contains(strings.Join(notes, "|"), "SYN-SENT") {
		t.Fatalf("no state change in the notes: %q", notes)
	}
	if c := tsharkComments(t, out); strings.Join(c, "|") != strings.Join(notes, "|") {
		t.Errorf("comments %q\nwant %q", c, notes)
	}
}

// TestCaptureWriteComments: capture -w F.pcapng gives every frame its note
// as a packet comment, made by the recorder's own analysis: the same words
// as the lines.
func TestCaptureWriteComments(t *testing.T) {
	testroot.Need(t)
	ln, port := listenLoopback(t)
	defer ln.Close()
	out := filepath.Join(t.TempDir(), "live.pcapng")
	var stdout, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run([]string{"tcpscope", "capture", "-w", out, "-c", "3", "tcp", "port", strconv.Itoa(port)}, nil, &stdout, &errb)
	}()
	time.Sleep(300 * time.Millisecond)
	dialOnce(t, port)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	notes := notesOf(stdout.String())
	c := tsharkComments(t, out)
	if len(notes) != 3 || len(c) < 3 || strings.Join(c[:3], "|") != strings.Join(notes, "|") {
		t.Errorf("comments %q\nlines' notes %q", c, notes)
	}
}
