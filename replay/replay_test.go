package replay_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/replay/badfile"
)

func readAll(t testing.TB, src frame.Source) ([]frame.Frame, error) {
	var out []frame.Frame
	for {
		f, err := src.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		f.Data = append([]byte(nil), f.Data...)
		out = append(out, f)
	}
}

func mustRead(t *testing.T, path string) []frame.Frame {
	t.Helper()
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// pcapFile writes frames as a classic pcap with the given byte order and
// resolution, so both orders and both magics are exercised.
func pcapFile(order binary.ByteOrder, nano bool, link frame.LinkType, fs []frame.Frame) []byte {
	var b bytes.Buffer
	magic := uint32(0xA1B2C3D4)
	if nano {
		magic = 0xA1B23C4D
	}
	h := make([]byte, 24)
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 262144)
	order.PutUint32(h[20:], uint32(link))
	b.Write(h)
	for _, f := range fs {
		r := make([]byte, 16)
		order.PutUint32(r[0:], uint32(f.Meta.Time.Unix()))
		frac := uint32(f.Meta.Time.Nanosecond())
		if !nano {
			frac /= 1000
		}
		order.PutUint32(r[4:], frac)
		order.PutUint32(r[8:], uint32(len(f.Data)))
		order.PutUint32(r[12:], uint32(f.Meta.OrigLen))
		b.Write(r)
		b.Write(f.Data)
	}
	return b.Bytes()
}

func TestByteOrdersResolutionsGzipStdin(t *testing.T) {
	want := mustRead(t, "../pcaps/tcpdump-tcp-handshake-nano.pcap")
	link := want[0].Meta.Link
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		nano  bool
		gz    bool
	}{
		{"le-micro", binary.LittleEndian, false, false},
		{"be-micro", binary.BigEndian, false, false},
		{"le-nano", binary.LittleEndian, true, false},
		{"be-nano-gzip", binary.BigEndian, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := pcapFile(tc.order, tc.nano, link, want)
			if tc.gz {
				var z bytes.Buffer
				w := gzip.NewWriter(&z)
				w.Write(data)
				w.Close()
				data = z.Bytes()
			}
			f, err := replay.Open("-", bytes.NewReader(data)) // through stdin
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for i := range got {
				wt := want[i].Meta.Time
				if !tc.nano {
					wt = wt.Truncate(time.Microsecond)
				}
				if !bytes.Equal(got[i].Data, want[i].Data) || !got[i].Meta.Time.Equal(wt) || got[i].Meta.Number != i+1 || got[i].Meta.Link != link {
					t.Errorf("frame %d differs: %+v vs %+v", i+1, got[i].Meta, want[i].Meta)
				}
			}
		})
	}
}

// TestPcapng reads pcapng files with several interfaces, link types and
// sections, including a big-endian one.
func TestPcapng(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames int
	}{
		{"gopacket-pcapng-be-test202.pcapng", 11},
		{"pcapplusplus-many_interfaces-1.pcapng", -1},
		{"zeek-ldap-gap-data-missing.pcapng", 18},
		{"pcapplusplus-pcapng-example.pcapng", -1},
	} {
		fs := mustRead(t, filepath.Join("../pcaps", tc.name))
		if tc.frames >= 0 && len(fs) != tc.frames {
			t.Errorf("%s: %d frames, want %d", tc.name, len(fs), tc.frames)
		}
		if len(fs) == 0 {
			t.Errorf("%s: no frames", tc.name)
		}
	}
	// One file mixing Ethernet and NULL interfaces keeps each frame's own link type.
	links := map[frame.LinkType]bool{}
	for _, f := range mustRead(t, "../pcaps/gopacket-pcapng-be-test202.pcapng") {
		links[f.Meta.Link] = true
	}
	if len(links) < 2 {
		t.Errorf("link types seen: %v, want Ethernet and NULL", links)
	}
}

// TestBadFiles: every damaged or hostile file of the badfile table (kept
// there so the command's tests use the same files) yields the frames before
// the fault, then one error naming the frame and the byte offset; readable
// oddities (zero-length and snaplen-truncated records, timestamps going
// backwards, unknown pcapng blocks) are delivered as recorded. A record or
// block claiming a huge length must not make the reader allocate it.
func TestBadFiles(t *testing.T) {
	for _, tc := range badfile.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f, err := replay.Open("-", bytes.NewReader(tc.Data))
			if tc.OpenErr {
				if err == nil || !strings.Contains(err.Error(), tc.Err) {
					t.Fatalf("Open error = %v, want %q", err, tc.Err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fs, err := readAll(t, f)
			runtime.ReadMemStats(&after)
			if len(fs) != tc.Frames {
				t.Errorf("%d frames before the fault, want %d", len(fs), tc.Frames)
			}
			if tc.Err == "" {
				if err != nil {
					t.Fatalf("error %v on a readable file", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.Err) {
					t.Fatalf("error = %v, want %q", err, tc.Err)
				}
				where := fmt.Sprintf("frame %d: ", tc.Frame)
				at := fmt.Sprintf("byte %d", tc.Offset)
				if !strings.HasPrefix(err.Error(), where) || !strings.Contains(err.Error(), at) {
					t.Errorf("error %q does not name %q and %q", err, where, at)
				}
			}
			// Reading a file of a few hundred bytes must not cost megabytes,
			// whatever its lengths claim (the bufio reader is 64 KiB).
			if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
				t.Errorf("allocated %d KiB for a %d-byte file", got>>10, len(tc.Data))
			}
			switch tc.Name {
			case "zero-length record":
				if fs[1].Meta.CapLen != 0 || len(fs[1].Data) != 0 || fs[2].Meta.Number != 3 {
					t.Errorf("zero-length record: %+v", fs[1].Meta)
				}
			case "snaplen-truncated packet":
				if m := fs[0].Meta; m.CapLen != 54 || m.OrigLen != 1514 || len(fs[0].Data) != 54 {
					t.Errorf("truncated record: CapLen %d OrigLen %d, want 54 and 1514", m.CapLen, m.OrigLen)
				}
			case "timestamps backwards":
				// Delivered in file order with the recorded times, never
				// reordered or clamped: the analysis and the display show
				// what the file says (rel_time can be negative).
				if !fs[1].Meta.Time.Before(fs[0].Meta.Time) || fs[1].Meta.Number != 2 {
					t.Errorf("times %v then %v", fs[0].Meta.Time, fs[1].Meta.Time)
				}
			}
		})
	}
	if _, err := replay.Open("/nonexistent/x.pcap", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/x.pcap: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReader: any bytes: no panic, no huge allocation, frames stay within limits.
func FuzzReader(f *testing.F) {
	for _, n := range []string{"tcpdump-print-flags.pcap", "zeek-tcp-retransmit-timeout.pcapng", "lo-reset.pcap.zst", "lo-reset.pcap.xz"} {
		b, _ := os.ReadFile(filepath.Join("../pcaps", n))
		if len(b) > 4096 {
			b = b[:4096]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := replay.NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			fr, err := src.Next()
			if err != nil {
				return
			}
			if len(fr.Data) > replay.MaxFrame+16<<20 || fr.Meta.CapLen != len(fr.Data) {
				t.Fatalf("frame of %d bytes, CapLen %d", len(fr.Data), fr.Meta.CapLen)
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("../pcaps/zeek-http-1000-requests-one-dropped-response.pcap")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		src, _ := replay.NewReader(bytes.NewReader(data))
		for {
			if _, err := src.Next(); err != nil {
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}

// FuzzPcapng starts from the pcapng cases of the bad-file table (unknown,
// cut and corrupt blocks) and a real multi-interface file, so the fuzzer
// explores block lengths, interface options and packet blocks rather than
// the magic number. The reader must not panic, must keep its frames within
// the limits and must number them 1, 2, 3…
func FuzzPcapng(f *testing.F) {
	for _, c := range badfile.Cases() {
		if len(c.Data) > 4 && c.Data[0] == 0x0A && c.Data[1] == 0x0D {
			f.Add(c.Data)
		}
	}
	if b, err := os.ReadFile("../pcaps/gopacket-pcapng-be-test202.pcapng"); err == nil && len(b) <= 8192 {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := replay.NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 1; i <= 1000; i++ {
			fr, err := src.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !strings.HasPrefix(err.Error(), fmt.Sprintf("frame %d: ", i)) {
					t.Fatalf("error %q does not name frame %d", err, i)
				}
				return
			}
			if fr.Meta.Number != i || fr.Meta.CapLen != len(fr.Data) || fr.Meta.OrigLen < fr.Meta.CapLen || len(fr.Data) > 16<<20 {
				t.Fatalf("frame %d: %+v with %d bytes", i, fr.Meta, len(fr.Data))
			}
		}
	})
}

// TestInvalidMicrosecondsReadAsWireshark: tcpdump's timestamp_invalid_micro
// capture has microsecond fields of 1 000 000 and 2^31. Wireshark's wiretap
// multiplies them by 1000 in 32-bit unsigned arithmetic into a signed int,
// so the first becomes a whole second and the second wraps to 0; tshark's
// RTTs on that capture (initial_rtt 1 µs) follow from that reading.
func TestInvalidMicrosecondsReadAsWireshark(t *testing.T) {
	fs := mustRead(t, "../pcaps/tcpdump-timestamp_invalid_micro.pcap")
	want := []time.Time{
		time.Unix(1418145369, 999999000),
		time.Unix(1418145371, 0), // 1418145370 s + 1 000 000 µs
		time.Unix(1418145370, 0), // 2^31 µs × 1000 wraps to 0 in 32 bits
	}
	if len(fs) != len(want) {
		t.Fatalf("%d frames, want %d", len(fs), len(want))
	}
	for i, w := range want {
		if !fs[i].Meta.Time.Equal(w) {
			t.Errorf("frame %d: time %v, Wireshark reads %v", i+1, fs[i].Meta.Time.UTC(), w.UTC())
		}
	}
}

// TestZstdAndXz: captures compressed with zstd or xz are recognised by
// their magic and read frame for frame as the plain file; a corrupt or cut
// stream gives one line naming the compression, after the frames before it.
func TestZstdAndXz(t *testing.T) {
	plain := mustRead(t, "../pcaps/lo-reset.pcap")
	for _, name := range []string{"../pcaps/lo-reset.pcap.zst", "../pcaps/lo-reset.pcap.xz"} {
		got := mustRead(t, name)
		if len(got) != len(plain) {
			t.Fatalf("%s: %d frames, plain file %d", name, len(got), len(plain))
		}
		for i := range got {
			if !bytes.Equal(got[i].Data, plain[i].Data) || !got[i].Meta.Time.Equal(plain[i].Meta.Time) {
				t.Fatalf("%s frame %d differs from the plain file's", name, i+1)
			}
		}
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		kind := strings.TrimPrefix(filepath.Ext(name), ".")
		if kind == "zst" {
			kind = "zstd"
		}
		flipped := append([]byte(nil), raw...)
		flipped[len(flipped)*2/3] ^= 0xFF
		for what, b := range map[string][]byte{"cut": raw[:len(raw)*2/3], "flipped": flipped} {
			src, err := replay.NewReader(bytes.NewReader(b))
			if err == nil {
				_, err = readAll(t, src)
			}
			if err == nil || !strings.HasPrefix(err.Error(), kind+": ") && !strings.Contains(err.Error(), ": "+kind+": ") {
				t.Errorf("%s %s: error %v, want one naming %s", name, what, err, kind)
			} else if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("%s %s: error of several lines: %q", name, what, err)
			}
		}
	}
}

// TestXzDictionaryBound: an xz file asking for a dictionary larger than
// tcpscope allows (memory it would allocate at once) is refused with one
// line before anything is allocated.
func TestXzDictionaryBound(t *testing.T) {
	raw, err := os.ReadFile("../pcaps/lo-reset.pcap.xz")
	if err != nil {
		t.Fatal(err)
	}
	if raw[14] != 0x21 || raw[15] != 1 {
		t.Fatalf("unexpected block header % x", raw[12:18])
	}
	b := append([]byte(nil), raw...)
	b[16] = 30 // LZMA2 dictionary 2 << 26 = 128 MiB
	_, err = replay.NewReader(bytes.NewReader(b))
	if err == nil || !strings.Contains(err.Error(), "xz: the file asks for a 128 MiB dictionary") {
		t.Fatalf("error %v, want the dictionary refused", err)
	}
}
