package main

import (
	"bytes"
	"compress/gzip"
	bin "encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReplayHeadsOnlySameOutput: replay (and follow) of a capture big enough to be read
// through a memory map copies only each frame's headers and verifies TCP
// checksums from the reader's sum of the rest, or (text) from the header
// alone when offload left them partial (pipeline.Options.HeadersOnly,
// decode.DecodeOptions.BadChecksumsOnly). Its text and JSON lines must be
// those of the same capture gzipped, which is read and copied whole. The
// capture is every shipped Ethernet pcap's records, again and again: good,
// bad and partial checksums, trailers after the IP datagram, IPv6,
// tunnels, fragments, cut frames.
func TestReplayHeadsOnlySameOutput(t *testing.T) {
	var recs []byte
	files, _ := filepath.Glob("../../pcaps/*.pcap")
	used := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil || len(b) < 24 || bin.LittleEndian.Uint32(b) != 0xa1b2c3d4 || bin.LittleEndian.Uint32(b[20:]) != 1 {
			continue // only little-endian microsecond Ethernet captures concatenate as they are
		}
		// Whole records only: a capture cut inside its last one would
		// misalign the next capture's.
		b = b[24:]
		for len(b) >= 16 {
			n := int(bin.LittleEndian.Uint32(b[8:]))
			if n > 262144 || 16+n > len(b) {
				break
			}
			recs = append(recs, b[:16+n]...)
			b = b[16+n:]
		}
		used++
	}
	if used < 10 {
		t.Fatalf("only %d captures to concatenate", used)
	}
	// Every 20th frame of 300 bytes or more gets its last byte changed,
	// past the head: a good checksum turns bad there (a partial one stays
	// partial).
	for off, i := 0, 0; off+16 <= len(recs); i++ {
		n := int(bin.LittleEndian.Uint32(recs[off+8:]))
		if n >= 300 && i%20 == 0 {
			recs[off+16+n-1] ^= 0x5a
		}
		off += 16 + n
	}
	file := append([]byte(nil), 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0)
	for len(file) < 3<<20 {
		file = append(file, recs...)
	}
	dir := t.TempDir()
	plain, zipped := filepath.Join(dir, "big.pcap"), filepath.Join(dir, "big.pcap.gz")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(file)
	zw.Close()
	if err := os.WriteFile(plain, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zipped, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{{"replay", "--color", "never"}, {"replay", "--json"}, {"replay", "--color", "never", "-Y", "tcp.analysis.flags"},
		{"stats"}, {"stats", "-Y", "tcp.checksum.status == 0"}, {"graph", "-o", "-", "--stream", "0"}, {"ladder", "--stream", "0", "--color", "never"}}
	// follow reads every frame's head and the payload of its stream's
	// only, once the analysis has named them (pipeline.Fill).
	stats, _, _ := runCLI(t, nil, "stats", plain)
	var streams []string // the three carrying the most data
	for len(streams) < 3 {
		best, most := "", 0
		for _, line := range strings.Split(stats, "\n") {
			f := strings.Fields(line)
			if len(f) < 11 || f[0] == "stream" || f[0] == "total" || slices.Contains(streams, f[0]) {
				continue
			}
			c, _ := strconv.Atoi(f[9])
			s, _ := strconv.Atoi(f[10])
			if c+s > most {
				best, most = f[0], c+s
			}
		}
		if best == "" {
			t.Fatalf("no streams with data in:\n%s", stats)
		}
		streams = append(streams, best)
	}
	for _, stream := range streams {
		runs = append(runs, []string{"follow", "--stream", stream, "--color", "never"},
			[]string{"follow", "--stream", stream, "--raw", "--color", "never"})
	}
	for _, args := range runs {
		out, errs, code := runCLI(t, nil, append([]string{args[0], plain}, args[1:]...)...)
		zout, zerrs, zcode := runCLI(t, nil, append([]string{args[0], zipped}, args[1:]...)...)
		errs, zerrs = strings.ReplaceAll(errs, plain, "F"), strings.ReplaceAll(zerrs, zipped, "F")
		if code != 0 || len(out) < 1000 {
			t.Errorf("%v: exit %d, %d bytes, %s: the stream is not what the test means", args, code, len(out), errs)
		}
		if code != zcode || out != zout || errs != zerrs {
			t.Errorf("replay %v: exit %d, %d lines; gzipped: exit %d, %d lines\nstderr %q\ngzipped %q",
				args, code, strings.Count(out, "\n"), zcode, strings.Count(zout, "\n"), errs, zerrs)
			o, zo := strings.Split(out, "\n"), strings.Split(zout, "\n")
			for i := range min(len(o), len(zo)) {
				if o[i] != zo[i] {
					t.Errorf("first difference, line %d:\n%s\n%s", i+1, o[i], zo[i])
					break
				}
			}
		}
		for _, want := range []string{"bad checksum", `"tcp_checksum":"bad"`, `"tcp_checksum":"ok"`, `"tcp_checksum":"unverified: partial`} {
			if args[0] == "replay" && strings.Contains(want, "tcp_checksum") == (args[1] == "--json") && args[len(args)-1] != "tcp.analysis.flags" && !strings.Contains(out, want) {
				t.Errorf("replay %v: no %q: the capture no longer exercises it", args, want)
			}
		}
	}
}
