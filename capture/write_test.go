package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
)

// fullDisk is a File that accepts limit bytes and then fails as a full disk
// does: a short write, then ENOSPC.
type fullDisk struct {
	data      []byte
	limit     int
	truncated int // calls to Truncate
	closed    bool
}

func (d *fullDisk) Write(p []byte) (int, error) {
	room := d.limit - len(d.data)
	if room >= len(p) {
		d.data = append(d.data, p...)
		return len(p), nil
	}
	if room < 0 {
		room = 0
	}
	d.data = append(d.data, p[:room]...)
	return room, syscall.ENOSPC
}

func (d *fullDisk) Truncate(n int64) error {
	d.truncated++
	if n > int64(len(d.data)) {
		return fmt.Errorf("truncate beyond the end: %d > %d", n, len(d.data))
	}
	d.data = d.data[:n]
	return nil
}

func (d *fullDisk) Close() error { d.closed = true; return nil }

// testFrame is frame i: a payload of size bytes, each byte i.
func testFrame(i, size int) frame.Frame {
	return frame.Frame{
		Data: bytes.Repeat([]byte{byte(i)}, size),
		Meta: frame.Meta{Number: i, Time: time.Unix(1700000000, int64(i)*1000), OrigLen: size},
	}
}

// readAll reads every frame of a capture with our reader; any error (a
// truncated record above all) fails the test.
func readAll(t *testing.T, data []byte) []frame.Frame {
	t.Helper()
	src, err := replay.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading the written file: %v", err)
	}
	var out []frame.Frame
	for {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the written file after %d frames: %v", len(out), err)
		}
		out = append(out, frame.Frame{Data: append([]byte(nil), f.Data...), Meta: f.Meta})
	}
}

// TestWriterDiskFull fills a simulated disk at every kind of point — inside
// the file header's flush, in the middle of a record, exactly on a record
// boundary, with records bigger than the write buffer — and checks that
// the file is then cut back to its last whole record: it reads without
// error, holds exactly the frames Count says, byte for byte, and the
// error names the file and says the disk is full.
func TestWriterDiskFull(t *testing.T) {
	for _, ext := range []string{".pcap", ".pcapng"} {
		for _, size := range []int{60, 1500, 70000} { // 70000 > the 64 KiB buffer
			for _, limit := range []int{100, 4096, 65536, 65536 + 7, 200000, 1 << 20} {
				name := fmt.Sprintf("%s/frame%d/limit%d", ext, size, limit)
				t.Run(name, func(t *testing.T) {
					d := &fullDisk{limit: limit}
					path := "dir/f" + ext
					w, err := NewWriter(d, path, frame.LinkEthernet, 0)
					if err != nil {
						t.Fatalf("NewWriter: %v", err)
					}
					var werr error
					n := 0
					for ; n < 100000 && werr == nil; n++ {
						werr = w.Write(testFrame(n+1, size))
					}
					cerr := w.Close()
					if werr == nil {
						t.Fatalf("%d frames of %d bytes fit in %d bytes?", n, size, limit)
					}
					want := "write dir/f" + ext + ": no space left on device"
					if werr.Error() != want || cerr == nil || cerr.Error() != want {
						t.Errorf("Write error %q, Close error %v; want %q from both", werr, cerr, want)
					}
					if !d.closed {
						t.Error("the file was not closed")
					}
					if err := w.Write(testFrame(1, 10)); err == nil {
						t.Error("a Write after the failure succeeded")
					}
					if int64(len(d.data)) != w.Size() {
						t.Errorf("file holds %d bytes, Size says %d", len(d.data), w.Size())
					}
					if len(d.data) == 0 {
						// Not even the file header fitted: an empty file.
						if w.Count() != 0 {
							t.Errorf("empty file, Count %d", w.Count())
						}
						return
					}
					got := readAll(t, d.data)
					if len(got) != w.Count() {
						t.Fatalf("file holds %d frames, Count says %d", len(got), w.Count())
					}
					for i, f := range got {
						if want := testFrame(i+1, size); !bytes.Equal(f.Data, want.Data) || !f.Meta.Time.Equal(want.Meta.Time) {
							t.Fatalf("frame %d differs from the one written", i+1)
						}
					}
					// Nothing whole was thrown away: one more record would not
					// have fitted in what the disk accepted.
					if len(d.data)+size+16 <= limit && ext == ".pcap" {
						t.Errorf("cut back to %d bytes, but the disk took %d: a whole %d-byte frame was lost", len(d.data), limit, size)
					}
				})
			}
		}
	}
}

// TestWriterWholeFile: without failures every frame comes back, in both
// formats, and Close leaves nothing buffered.
func TestWriterWholeFile(t *testing.T) {
	for _, ext := range []string{".pcap", ".pcapng"} {
		d := &fullDisk{limit: 1 << 30}
		w, err := NewWriter(d, "f"+ext, frame.LinkEthernet, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3000; i++ {
			if err := w.Write(testFrame(i, 1+i%2000)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if d.truncated != 0 {
			t.Errorf("%s: truncated %d times without a failure", ext, d.truncated)
		}
		if got := readAll(t, d.data); len(got) != 3000 || w.Count() != 3000 || int64(len(d.data)) != w.Size() {
			t.Errorf("%s: read back %d frames, Count %d, Size %d of %d bytes", ext, len(got), w.Count(), w.Size(), len(d.data))
		}
	}
}

// TestTeeStopsOnWriteError: a capture whose file cannot be written stops
// (io.EOF) with the error in Err, instead of going on unsaved.
func TestTeeStopsOnWriteError(t *testing.T) {
	d := &fullDisk{limit: 3000}
	w, err := NewWriter(d, "f.pcap", frame.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	tee := &Tee{Src: &endless{}, W: w}
	n := 0
	for ; n < 1000000; n++ {
		if _, err := tee.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v, want io.EOF", err)
			}
			break
		}
	}
	if tee.Err == nil || !strings.Contains(tee.Err.Error(), "no space left on device") {
		t.Fatalf("after %d frames: Err = %v", n, tee.Err)
	}
	if n > 100000 {
		t.Errorf("the tee went on for %d frames after the disk filled", n)
	}
	w.Close()
	if got := readAll(t, d.data); len(got) != w.Count() || len(got) == 0 {
		t.Errorf("file holds %d frames, Count %d", len(got), w.Count())
	}
}

// endless is a source of 1000-byte frames that never ends.
type endless struct{ n int }

func (e *endless) Next() (frame.Frame, error) {
	e.n++
	return testFrame(e.n, 1000), nil
}

// TestWriterFullAtClose: the frames all fitted in the write buffer, so the
// disk fills only at Close's flush; the file is still cut back to whole
// records (pcap: 24-byte header, 16 + 200 bytes per frame, so 1000 bytes
// hold 4 frames).
func TestWriterFullAtClose(t *testing.T) {
	d := &fullDisk{limit: 1000}
	w, err := NewWriter(d, "f.pcap", frame.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		if err := w.Write(testFrame(i, 200)); err != nil {
			t.Fatalf("frame %d: %v (nothing should reach the disk before Close)", i, err)
		}
	}
	err = w.Close()
	if err == nil || err.Error() != "write f.pcap: no space left on device" {
		t.Fatalf("Close: %v", err)
	}
	if got := readAll(t, d.data); len(got) != 4 || w.Count() != 4 || len(d.data) != 24+4*216 {
		t.Errorf("file: %d bytes, %d frames, Count %d; want 888 bytes, 4 frames", len(d.data), len(got), w.Count())
	}
}
