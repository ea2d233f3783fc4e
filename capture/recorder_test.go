package capture

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
)

// sliceSource hands out frames, then err (io.EOF when nil).
type sliceSource struct {
	frames []frame.Frame
	err    error
}

func (s *sliceSource) Next() (frame.Frame, error) {
	if len(s.frames) == 0 {
		if s.err != nil {
			return frame.Frame{}, s.err
		}
		return frame.Frame{}, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f, nil
}

// TestRecorderDoesNotWaitForDisplay: a display that reads nothing until
// the source has ended still gets a complete file; it then reads the
// frames that fit the queue, unchanged and in order, and NotShown counts
// the rest.
func TestRecorderDoesNotWaitForDisplay(t *testing.T) {
	var src sliceSource
	for i := 1; i <= 100; i++ {
		src.frames = append(src.frames, testFrame(i, 1000))
	}
	src.err = errors.New("the interface went down")
	d := &fullDisk{limit: 1 << 30}
	w, err := NewWriter(d, "F.pcap", frame.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(&src, w, 30*1000)
	r.Wait() // the display has not read a single frame
	if !d.closed {
		t.Fatal("the file is not closed at the end of the source")
	}
	if got := readAll(t, d.data); len(got) != 100 {
		t.Fatalf("file holds %d frames, want 100", len(got))
	}
	shown := 0
	for {
		f, err := r.Next()
		if err != nil {
			if err.Error() != "the interface went down" {
				t.Fatalf("display ends with %v, want the source's error", err)
			}
			break
		}
		shown++
		if f.Meta.Number != shown || !bytes.Equal(f.Data, bytes.Repeat([]byte{byte(shown)}, 1000)) {
			t.Fatalf("frame %d shown as #%d with other bytes", shown, f.Meta.Number)
		}
	}
	if shown != 30 || r.NotShown() != 70 {
		t.Errorf("%d shown, %d not shown; want the 30 that fit the queue, 70", shown, r.NotShown())
	}
	if w.Close() != nil || w.Count() != 100 {
		t.Errorf("Close: %v, %d frames", w.Close(), w.Count())
	}
}

// TestRecorderWriteErrorStops: a full disk stops the recording; the display
// gets what was queued, then io.EOF, and Err names the error.
func TestRecorderWriteErrorStops(t *testing.T) {
	var src sliceSource
	for i := 1; i <= 100; i++ {
		src.frames = append(src.frames, testFrame(i, 1000))
	}
	d := &fullDisk{limit: 30 << 10}
	w, err := NewWriter(d, "F.pcap", frame.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(&src, w, 0)
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			if err != io.EOF {
				t.Fatalf("display ends with %v, want io.EOF", err)
			}
			break
		}
		n++
	}
	if !errors.Is(r.Err(), syscall.ENOSPC) && (r.Err() == nil || !bytes.Contains([]byte(r.Err().Error()), []byte("no space"))) {
		t.Fatalf("Err = %v, want the full disk", r.Err())
	}
	if got := readAll(t, d.data); len(got) != w.Count() || n < w.Count() || len(src.frames) == 0 {
		t.Errorf("file %d frames, Count %d, shown %d, %d never read", len(got), w.Count(), n, len(src.frames))
	}
}
