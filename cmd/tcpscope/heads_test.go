package main

import (
	"bytes"
	"compress/gzip"
	bin "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayHeadsOnlySameOutput: replay of a capture big enough to be read
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
		recs = append(recs, b[24:]...)
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
	for _, args := range [][]string{{"--color", "never"}, {"--json"}, {"--color", "never", "-Y", "tcp.analysis.flags"}} {
		out, errs, code := runCLI(t, nil, append([]string{"replay", plain}, args...)...)
		zout, zerrs, zcode := runCLI(t, nil, append([]string{"replay", zipped}, args...)...)
		errs, zerrs = strings.ReplaceAll(errs, plain, "F"), strings.ReplaceAll(zerrs, zipped, "F")
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
			if strings.Contains(want, "tcp_checksum") == (args[0] == "--json") && args[len(args)-1] != "tcp.analysis.flags" && !strings.Contains(out, want) {
				t.Errorf("replay %v: no %q: the capture no longer exercises it", args, want)
			}
		}
	}
}
