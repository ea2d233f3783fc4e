//go:build linux || darwin || freebsd || netbsd || openbsd

package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/inetsum"
)

// openMapped maps path whatever its size (Open maps only files of mapMin
// bytes or more) and returns its reader, or nil when it is not an
// uncompressed capture.
func openMapped(t *testing.T, path string) (frame.Source, func()) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := mapFile(f, 0)
	if m == nil {
		f.Close()
		t.Fatalf("%s: not mapped", path)
	}
	src, err := newMappedReader(m)
	if src == nil || err != nil {
		m.Close()
		f.Close()
		return nil, nil
	}
	return src, func() { m.Close(); f.Close() }
}

type readFrame struct {
	Meta frame.Meta
	Data string
}

// readAll reads src to its end with next, returning the frames and the
// error that ended them (nil at io.EOF).
func readAll(next func() (frame.Frame, error)) ([]readFrame, error) {
	var out []readFrame
	for {
		f, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, readFrame{f.Meta, string(f.Data)})
	}
}

// TestMappedReadsAsBuffered: every shipped uncompressed capture, read
// through a mapping (Next, NextAppend, and NextAppendHead then FillLast),
// gives the frames and the final error that reading it with read(2)
// through a buffer gives.
func TestMappedReadsAsBuffered(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	mapped := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".xz") || strings.HasSuffix(path, ".zst") || strings.HasSuffix(path, ".gz") {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		buffered, err := NewReader(bufio.NewReader(f))
		if err != nil {
			f.Close()
			continue // no header: nothing to compare
		}
		want, wantErr := readAll(buffered.Next)
		f.Close()

		ways := map[string]func(frame.Source) func() (frame.Frame, error){
			"Next": func(s frame.Source) func() (frame.Frame, error) { return s.Next },
			"NextAppend": func(s frame.Source) func() (frame.Frame, error) {
				a, ok := s.(frame.Appender)
				if !ok {
					return nil
				}
				var buf []byte
				return func() (frame.Frame, error) {
					f, b, err := a.NextAppend(buf[:0])
					buf = b
					return f, err
				}
			},
			"NextAppendHead": func(s frame.Source) func() (frame.Frame, error) {
				h, ok := s.(frame.HeadAppender)
				if !ok {
					return nil
				}
				var buf []byte
				return func() (frame.Frame, error) {
					f, b, err := h.NextAppendHead(buf[:0], 40)
					buf = b
					if err == nil {
						err = h.FillLast(f.Data)
					}
					return f, err
				}
			},
			"NextAppendHead+SumLast": func(s frame.Source) func() (frame.Frame, error) {
				h, ok := s.(frame.HeadSummer)
				if !ok {
					return nil
				}
				var buf []byte
				return func() (frame.Frame, error) {
					f, b, err := h.NextAppendHead(buf[:0], 40)
					buf = b
					if err != nil {
						return f, err
					}
					if len(f.Data) > 40 && f.Tail.Off != 40 || len(f.Data) <= 40 && f.Tail.Off != 0 {
						return f, fmt.Errorf("frame %d of %d bytes: Tail.Off %d", f.Meta.Number, len(f.Data), f.Tail.Off)
					}
					sum, err := h.SumLast()
					if err == nil {
						err = h.FillLast(f.Data)
					}
					if got := inetsum.Fold(inetsum.Add(f.Data[f.Tail.Off:], 0)); err == nil && f.Tail.Off > 0 && sum != got {
						err = fmt.Errorf("frame %d: SumLast %#04x, the bytes add up to %#04x", f.Meta.Number, sum, got)
					}
					return f, err
				}
			},
			// Batches of 7 (so they end anywhere), each frame's tail
			// copied from the second window afterwards, as stats does;
			// every other batch with the tails summed as read (JSON's).
			"NextHeads+ReadTail": func(s frame.Source) func() (frame.Frame, error) {
				h, ok := s.(frame.HeadBatcher)
				if !ok {
					return nil
				}
				if pr, ok := s.(*pcapReader); ok && pr.late == nil {
					pr.late = pr.m.twin() // as Open does
					t.Cleanup(func() { pr.late.Close() })
				}
				var q []frame.Frame
				var qerr error
				out := make([]frame.Frame, 7)
				sum := false
				return func() (frame.Frame, error) {
					if len(q) == 0 && qerr == nil {
						// A buffer of 3000 bytes: frames that do not fit
						// wait for the next call (bar the first).
						sum = !sum
						k, buf, err := h.NextHeads(make([]byte, 0, 3000), 40, sum, out)
						if k > 1 && len(out[0].Data) <= 3000 && len(buf) > 3000 {
							return frame.Frame{}, fmt.Errorf("%d frames took %d bytes of a buffer of 3000", k, len(buf))
						}
						q, qerr = out[:k], err
					}
					if len(q) == 0 {
						return frame.Frame{}, qerr
					}
					f := q[0]
					q = q[1:]
					if err := h.ReadTail(f); err != nil {
						return f, err
					}
					if sum != f.Tail.Summed && f.Tail.Off > 0 {
						return f, fmt.Errorf("frame %d: Summed %v in a batch asked to sum: %v", f.Meta.Number, f.Tail.Summed, sum)
					}
					if got := inetsum.Fold(inetsum.Add(f.Data[f.Tail.Off:], 0)); f.Tail.Summed && f.Tail.Sum != got {
						return f, fmt.Errorf("frame %d: summed as read %#04x, the bytes add up to %#04x", f.Meta.Number, f.Tail.Sum, got)
					}
					return f, nil
				}
			},
		}
		for name, way := range ways {
			src, done := openMapped(t, path)
			if src == nil {
				t.Fatalf("%s: the mapped reader refuses what the buffered one reads", path)
			}
			next := way(src)
			if next == nil {
				done()
				continue
			}
			got, gotErr := readAll(next)
			done()
			if errString(gotErr) != errString(wantErr) {
				t.Errorf("%s (%s): error %v, buffered %v", path, name, gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s): %d frames differ from the buffered reader's %d", path, name, len(got), len(want))
			}
			mapped++
		}
	}
	if mapped < 150 {
		t.Errorf("only %d mapped reads compared", mapped)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// bigPcap writes a classic pcap of n frames of size bytes each.
func bigPcap(t *testing.T, path string, n, size int) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	appendFrames(&b, 0, n, size)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFrames(b *bytes.Buffer, from, n, size int) {
	for i := from; i < from+n; i++ {
		b.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16), 0, 0, 0, 0, 0, byte(size), byte(size >> 8), 0, 0, byte(size), byte(size >> 8), 0, 0})
		fr := make([]byte, size)
		fr[0], fr[1] = byte(i), byte(i>>8)
		b.Write(fr)
	}
}

// TestOpenMapsLargeFiles: Open reads a capture of mapMin bytes or more
// through a mapping, all of it: here three windows' worth (mapWindow).
func TestOpenMapsLargeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pcap")
	n := 3 * mapWindow / 1016
	bigPcap(t, path, n, 1000)
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p, ok := f.Source.(*pcapReader); !ok || p.m == nil {
		t.Fatalf("a %d-byte file is not mapped: %T", n*1016, f.Source)
	}
	got, err := readAll(f.Next)
	if err != nil || len(got) != n || got[n-1].Data[0] != byte((n-1)&0xff) || got[n-1].Data[1] != byte((n-1)>>8) {
		t.Fatalf("%d frames, %v", len(got), err)
	}
}

// TestMappedFileShrinks: a capture truncated while it is read through a
// mapping (the kernel then raises SIGBUS on the lost pages) gives an error
// naming what happened, through every way of reading, and no crash.
func TestMappedFileShrinks(t *testing.T) {
	for _, way := range []string{"Next", "NextAppend", "NextAppendHead", "NextHeads", "NextHeads without sums"} {
		path := filepath.Join(t.TempDir(), "shrinks.pcap")
		bigPcap(t, path, 3000, 1000)
		f, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if _, err := f.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Truncate(path, 64<<10); err != nil {
			t.Fatal(err)
		}
		var buf []byte
		var n int
		for n = 10; n < 3000; n++ {
			var err error
			switch way {
			case "Next":
				_, err = f.Next()
			case "NextAppend":
				_, buf, err = f.NextAppend(buf[:0])
			case "NextAppendHead":
				var fr frame.Frame
				fr, buf, err = f.NextAppendHead(buf[:0], 40)
				if err == nil {
					err = f.FillLast(fr.Data)
				}
			case "NextHeads", "NextHeads without sums":
				// 100 at a time: the fault lands inside a batch, and the
				// frames before it count. Without sums the reader looks
				// ahead (lookAhead), and must not fault early.
				var k int
				k, buf, err = f.NextHeads(buf[:0], 40, way == "NextHeads", make([]frame.Frame, 100))
				n += k - 1
				if err != nil {
					n++
				}
			}
			if err != nil {
				if !errors.Is(err, errShrank) {
					t.Errorf("%s: frame %d: %v, want the file shrank", way, n+1, err)
				}
				break
			}
		}
		// 64 whole records of 1 016 bytes after the file header lie in the
		// first 64 KiB (and the 65th's header and first 40 bytes).
		if n*1016 > 72<<10 || n < 64 {
			t.Errorf("%s: %d frames read from a 64 KiB file", way, n)
		}
		f.Close()
	}
}

// TestMappedFileGrows: frames appended to a capture while it is read (a
// capture still being written) are read too, as read(2) would read them.
func TestMappedFileGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grows.pcap")
	bigPcap(t, path, 2000, 1000)
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 1990; i++ {
		if _, err := f.Next(); err != nil {
			t.Fatal(err)
		}
	}
	var more bytes.Buffer
	appendFrames(&more, 2000, 500, 1000)
	w, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(more.Bytes())
	w.Close()
	got, err := readAll(f.Next)
	if err != nil || len(got) != 510 {
		t.Fatalf("%d frames after the first 1990, %v; want 510", len(got), err)
	}
}

// FuzzMapped: any bytes, read from a file through a mapping (Next, and
// NextAppendHead with FillLast), give the frames and the error that
// reading them through a buffer gives.
func FuzzMapped(f *testing.F) {
	for _, n := range []string{"tcpdump-print-flags.pcap", "zeek-tcp-retransmit-timeout.pcapng", "gopacket-pcapng-be-test202.pcapng"} {
		b, _ := os.ReadFile(filepath.Join("../pcaps", n))
		if len(b) > 8192 {
			b = b[:8192]
		}
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		buffered, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		want, wantErr := readAll(limit(buffered.Next))
		path := filepath.Join(dir, "f.pcap")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, heads := range []bool{false, true} {
			src, done := openMapped(t, path)
			if src == nil {
				t.Fatalf("the mapped reader refuses what the buffered one reads")
			}
			next := src.Next
			if h, ok := src.(frame.HeadAppender); ok && heads {
				var buf []byte
				next = func() (frame.Frame, error) {
					fr, nb, err := h.NextAppendHead(buf[:0], 24)
					buf = nb
					if err == nil {
						err = h.FillLast(fr.Data)
					}
					return fr, err
				}
			}
			got, gotErr := readAll(limit(next))
			done()
			if errString(gotErr) != errString(wantErr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("mapped (heads %v): %d frames, %v; buffered: %d frames, %v", heads, len(got), gotErr, len(want), wantErr)
			}
		}
		// Batches of heads without sums (NextHeads, which looks ahead):
		// each frame's first 24 bytes, the same frames, the same error.
		src, done := openMapped(t, path)
		hb, ok := src.(frame.HeadBatcher)
		if !ok {
			done()
			return
		}
		var buf []byte
		var queue []frame.Frame
		var qerr error
		next := func() (frame.Frame, error) {
			for len(queue) == 0 {
				if qerr != nil {
					return frame.Frame{}, qerr
				}
				out := make([]frame.Frame, 1+len(buf)%7)
				var k int
				k, buf, qerr = hb.NextHeads(buf[:0], 24, false, out)
				queue = out[:k]
			}
			fr := queue[0]
			queue = queue[1:]
			if fr.Tail.Off > 0 {
				fr.Data = fr.Data[:fr.Tail.Off]
			}
			return fr, nil
		}
		got, gotErr := readAll(limit(next))
		done()
		var wantHeads []readFrame // nil when want is, as got is
		for _, w := range want {
			wantHeads = append(wantHeads, readFrame{w.Meta, w.Data[:min(24, len(w.Data))]})
		}
		if errString(gotErr) != errString(wantErr) || !reflect.DeepEqual(got, wantHeads) {
			t.Fatalf("mapped (NextHeads): %d frames, %v; buffered: %d frames, %v", len(got), gotErr, len(want), wantErr)
		}
	})
}

// limit stops next after 1000 frames (as io.EOF).
func limit(next func() (frame.Frame, error)) func() (frame.Frame, error) {
	n := 0
	return func() (frame.Frame, error) {
		if n++; n > 1000 {
			return frame.Frame{}, io.EOF
		}
		return next()
	}
}

// writeMixedSizes writes a pcap of n records of 60 to 1459 bytes, byte j
// of record i being fill(i, j), larger than a mapping's window, and returns
// its path and the records' bytes.
func writeMixedSizes(t *testing.T, n int, fill func(i, j int) byte) (string, [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.pcap")
	var b bytes.Buffer
	b.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	var want [][]byte
	for i := 0; i < n; i++ {
		size := 60 + i*7919%1400
		b.Write([]byte{byte(i), byte(i >> 8), 0, 0, 0, 0, 0, 0, byte(size), byte(size >> 8), 0, 0, byte(size), byte(size >> 8), 0, 0})
		fr := make([]byte, size)
		for j := range fr {
			fr[j] = fill(i, j)
		}
		b.Write(fr)
		want = append(want, fr)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want
}

// headsOf reads every frame of f, copying n bytes of each (NextAppendHead).
func headsOf(t *testing.T, f *File, n int) []frame.Frame {
	t.Helper()
	var frames []frame.Frame
	for {
		fr, _, err := f.NextAppendHead(nil, n)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fr)
	}
}

// TestReadTailAnyOrder: frames read as heads from a mapped file get their
// uncopied bytes later through ReadTail, from another goroutine, in any
// order, across many windows; a file cut short meanwhile gives an error,
// not a crash.
func TestReadTailAnyOrder(t *testing.T) {
	path, want := writeMixedSizes(t, 12000, func(i, j int) byte { return byte(i*31 + j*7) })
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := headsOf(t, f, 64)
	heads := 0
	for _, fr := range frames {
		if fr.Tail.Off > 0 {
			heads++
		}
	}
	if len(frames) != len(want) || heads < 5000 {
		t.Fatalf("%d frames (%d as heads), want %d", len(frames), heads, len(want))
	}
	done := make(chan error)
	go func() {
		// Backwards, then every third forwards: the window slides both ways.
		for i := len(frames) - 1; i >= 0; i-- {
			if err := f.ReadTail(frames[i]); err != nil {
				done <- err
				return
			}
		}
		for i := 0; i < len(frames); i += 3 {
			if frames[i].Tail.Off > 0 {
				clear(frames[i].Data[frames[i].Tail.Off:])
			}
			if err := f.ReadTail(frames[i]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if !bytes.Equal(fr.Data, want[i]) {
			t.Fatalf("frame %d: bytes differ after ReadTail (tail %+v):\n% x\n% x", i+1, fr.Tail, fr.Data[:min(80, len(fr.Data))], want[i][:min(80, len(want[i]))])
		}
	}
	// Two goroutines at once (a pipeline's reader decoding a deep header
	// while follow fills a payload, far behind): each gets its own
	// frames' sums (run with -race).
	errs := make(chan error, 2)
	for g := range 2 {
		go func() {
			for i := g * 3000; i < g*3000+3000; i += 1 + g {
				fr := frames[i]
				sum, err := f.SumTail(fr)
				if err == nil && fr.Tail.Off > 0 && sum != inetsum.Fold(inetsum.Add(want[i][fr.Tail.Off:], 0)) {
					err = fmt.Errorf("frame %d: SumTail %#04x, not its bytes' sum", i+1, sum)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// Cut the file short: a tail past the new end is an error.
	if err := os.Truncate(path, 1<<20); err != nil {
		t.Fatal(err)
	}
	last := frames[len(frames)-1]
	if err := f.ReadTail(last); err == nil {
		t.Fatal("ReadTail past the end of a truncated file: no error")
	} else if !strings.Contains(err.Error(), fmt.Sprintf("frame %d", len(frames))) {
		t.Errorf("ReadTail on a truncated file: %v (no frame number)", err)
	}
}

// TestNextHeadSameAsNext: NextHeads's fast path (nextHead, which reads the
// window directly in the byte order it was told) gives every record of
// every shipped pcap, little- and big-endian, micro- and nanosecond, the
// frame, file offsets and uncopied tail that next gives (with sum, the
// tail's sum of the rest of the record: every other record), and takes every
// record that lies whole in the window (all of them, in files this small),
// so that a fast path that declines (a wrong byte order makes every
// length absurd) is caught too, not only a wrong frame.
func TestNextHeadSameAsNext(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap")
	tried, sums := 0, 0
	for _, path := range files {
		fast, doneFast := openMapped(t, path)
		if fast == nil {
			continue // not a capture the readers take (a bad version)
		}
		slow, doneSlow := openMapped(t, path)
		pf, ok1 := fast.(*pcapReader)
		ps, ok2 := slow.(*pcapReader)
		if !ok1 || !ok2 {
			doneFast()
			doneSlow()
			continue
		}
		tried++
		var bf, bs []byte
		for n := 1; ; n++ {
			var f frame.Frame
			sum := n%2 == 0 // every other record also adds up its rest
			ok, full := pf.nextHead(&f, &bf, 40, false, sum)
			pf.head, ps.head = 40, 40
			want, err := ps.next(&bs)
			if err != nil {
				if ok {
					t.Errorf("%s: frame %d: nextHead read a record next fails on: %v", path, n, err)
				}
				break
			}
			if full || !ok {
				t.Errorf("%s: frame %d (%d bytes, whole in the window): nextHead declined it", path, n, want.Meta.CapLen)
				break
			}
			if sum && want.Tail.Off > 0 {
				// What NextHeads's sum gave before nextHead did it:
				// the rest of the record, in the window.
				rest, inWin := ps.m.at(want.Tail.At, want.Meta.CapLen-want.Tail.Off)
				if !inWin {
					t.Fatalf("%s: frame %d: not in the window", path, n)
				}
				want.Tail.Summed, want.Tail.Sum = true, inetsum.Fold(inetsum.Add(rest, 0))
				sums++
			}
			if !reflect.DeepEqual(f.Meta, want.Meta) || f.Tail != want.Tail || string(f.Data[:min(40, len(f.Data))]) != string(want.Data[:min(40, len(want.Data))]) ||
				len(f.Data) != len(want.Data) || pf.off != ps.off || pf.last != ps.last || pf.lastLen != ps.lastLen || pf.m.pos != ps.m.pos {
				t.Errorf("%s: frame %d: nextHead %+v (off %d), next %+v (off %d)", path, n, f.Meta, pf.off, want.Meta, ps.off)
				break
			}
		}
		doneFast()
		doneSlow()
	}
	if tried < 20 || sums < 1000 {
		t.Fatalf("only %d pcap files tried, %d records summed", tried, sums)
	}
}

// TestViewFrameLendsWhereItLies: ViewFrame lends any range of a frame read
// as a head, from the frame's start to its end, in any order of frames, the
// bytes the file holds, without copying them into the frame's buffer (its
// uncopied bytes are left as they were); a range beyond the frame is an
// error, and so is one past the end of a file cut short meanwhile (not a
// crash), naming the frame.
func TestViewFrameLendsWhereItLies(t *testing.T) {
	path, want := writeMixedSizes(t, 4000, func(i, j int) byte { return byte(i*29 + j*5 + 1) })
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := headsOf(t, f, 64)
	for _, fr := range frames {
		// Poison what was not copied: a view that reads the frame's
		// buffer instead of the file shows it.
		if fr.Tail.Off > 0 {
			for j := range fr.Data[fr.Tail.Off:] {
				fr.Data[fr.Tail.Off+j] = 0xEE
			}
		}
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	lent := 0
	check := func(i, off, n int) {
		t.Helper()
		fr := frames[i]
		var got []byte
		if err := f.ViewFrame(fr, off, n, func(d []byte) { got = bytes.Clone(d) }); err != nil {
			t.Fatalf("frame %d [%d:%d]: %v", i+1, off, off+n, err)
		}
		if !bytes.Equal(got, want[i][off:off+n]) {
			t.Fatalf("frame %d [%d:%d] (tail %+v): lent\n% x\nwant\n% x", i+1, off, off+n, fr.Tail, got[:min(40, len(got))], want[i][off:min(off+40, off+n)])
		}
		if fr.Tail.Off > 0 && off+n > fr.Tail.Off {
			lent++
		}
	}
	// Backwards, then forwards: the view's window slides both ways.
	for i := len(frames) - 1; i >= 0; i-- {
		l := len(want[i])
		check(i, 0, l)
		check(i, l/3, l-l/3)
		check(i, 54, l-54)
		check(i, l, 0)
	}
	for i := 0; i < len(frames); i += 2 {
		check(i, 20, len(want[i])-40)
	}
	if lent < 10000 {
		t.Fatalf("only %d ranges reached past a head", lent)
	}
	for i, fr := range frames {
		for _, c := range fr.Data[fr.Tail.Off:] {
			if fr.Tail.Off > 0 && c != 0xEE {
				t.Fatalf("frame %d: ViewFrame wrote into the frame's buffer", i+1)
			}
		}
	}
	fr := frames[10]
	if err := f.ViewFrame(fr, 1, len(fr.Data), func([]byte) { t.Error("use called for a range past the frame") }); err == nil || !strings.Contains(err.Error(), "frame 11") {
		t.Errorf("a range past the frame: %v", err)
	}
	if err := os.Truncate(path, 1<<20); err != nil {
		t.Fatal(err)
	}
	last := frames[len(frames)-1]
	if err := f.ViewFrame(last, 0, len(last.Data), func(d []byte) { _ = bytes.Clone(d) }); err == nil {
		t.Fatal("ViewFrame past the end of a truncated file: no error")
	} else if !strings.Contains(err.Error(), "frame 4000") {
		t.Errorf("ViewFrame on a truncated file: %v (no frame number)", err)
	}
}

// TestReaderWindowOnFolios: the reader's window starts and ends on
// mapAlign boundaries of the file (or at its end), so that it maps the
// page cache's large folios whole, and holds at least mapWindow bytes past
// the next record (or all that is left), wherever that record starts; read
// front to back, it slides about once per mapWindow of the file.
func TestReaderWindowOnFolios(t *testing.T) {
	const size = 5*mapAlign + 12345
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xA5}, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mapFile(f, 0)
	if m == nil {
		t.Fatal("not mapped")
	}
	defer m.Close()
	// check peeks n bytes at pos; fresh: the window was just mapped for
	// them, and holds mapWindow past pos.
	check := func(pos int64, n int, fresh bool) {
		t.Helper()
		m.pos = pos
		b, err := m.Peek(n)
		if len(b) != min(n, int(size-pos)) || (err != nil && pos+int64(n) <= size) {
			t.Fatalf("at %d: Peek(%d) gave %d bytes, %v", pos, n, len(b), err)
		}
		end := m.winOff + int64(len(m.win))
		if m.winOff%mapAlign != 0 || end%mapAlign != 0 && end != size {
			t.Fatalf("at %d: window %d to %d, not on %d-byte boundaries", pos, m.winOff, end, mapAlign)
		}
		if m.winOff > pos || end < pos+int64(len(b)) || fresh && end < min(pos+mapWindow, size) || end-m.winOff > mapWindow+mapAlign+int64(n) {
			t.Fatalf("at %d: window %d to %d for a %d-byte peek", pos, m.winOff, end, n)
		}
	}
	for _, pos := range []int64{0, 1, 4095, 4096, mapAlign - 1, mapAlign, mapAlign + 1, 3*mapAlign - 7, size - 100, size - 1} {
		m.unmap() // each from scratch
		check(pos, 1500, true)
	}
	// Front to back in 1500-byte records: each slide moves the window on
	// by about mapWindow (records straddling its end map one folio again).
	m.unmap()
	slides, last := 0, int64(-1)
	for pos := int64(0); pos < size; pos += 1500 {
		check(pos, 1500, false)
		if m.winOff != last {
			slides, last = slides+1, m.winOff
		}
	}
	if want := size/mapWindow + 2; slides > want {
		t.Errorf("read front to back, the window slid %d times, more than %d", slides, want)
	}
}
