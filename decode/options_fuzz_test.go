package decode_test

import (
	"testing"

	"github.com/tcpscope/tcpscope/decode"
)

// FuzzOptionIter walks the options of any TCP header to the end: no panic,
// every option lies inside the captured header, offsets only grow, and the
// walk ends (at most one step per byte).
func FuzzOptionIter(f *testing.F) {
	hdr := func(opts string) []byte {
		o := mustHex(opts)
		b := make([]byte, 20, 20+len(o))
		b[12] = byte((20+len(o)+3)/4) << 4
		return append(b, o...)
	}
	f.Add(hdr("020405b4 0402 080a0000000100000000 01 030307"))           // SYN: mss, sackOK, TS, nop, wscale
	f.Add(hdr("0101 050a 00000001 00000002"))                            // one SACK block
	f.Add(hdr("0101 0522 00000001 00000002 00000003 00000004 00000005")) // SACK block cut
	f.Add(hdr("22 0a 0102030405060708"))                                 // TFO cookie (kind 34)
	f.Add(hdr("1e 0c 2001 0000000000000000"))                            // MPTCP
	f.Add(hdr("1d 04 0000"))                                             // TCP-AO
	f.Add(hdr("fe 06 f989 0000"))                                        // experimental (RFC 6994)
	f.Add(hdr("02"))                                                     // length byte missing
	f.Add(hdr("0200"))                                                   // length 0
	f.Fuzz(func(t *testing.T, b []byte) {
		tc, _ := decode.ParseTCP(b)
		if tc == nil {
			return
		}
		it := decode.NewOptionIter(tc)
		last := -1
		for n := 0; it.Next(); n++ {
			o := it.Option()
			if o.Offset <= last || o.Offset < 20 || o.Offset+o.Len > len(tc) || o.Len < 1 {
				t.Fatalf("option %d: kind %d at %d len %d, after %d, header %d bytes", n, o.Kind, o.Offset, o.Len, last, len(tc))
			}
			if n > len(tc) {
				t.Fatal("more options than bytes")
			}
			last = o.Offset
		}
		if it.Err() != "" && (it.ErrOffset() < 20 || it.ErrOffset() > len(tc)+1) {
			t.Fatalf("error %q at offset %d of %d", it.Err(), it.ErrOffset(), len(tc))
		}
		var o decode.Options
		decode.ParseOptions(tc, &o)
		if o.NSACK > decode.MaxSACKBlocks || o.NSACK < 0 {
			t.Fatalf("%d SACK blocks", o.NSACK)
		}
	})
}
