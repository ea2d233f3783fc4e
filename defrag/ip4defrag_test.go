package defrag

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestAgainstIP4Defrag uses gopacket's ip4defrag as a reference on the
// project's fragmented IPv4 captures. Where fragments do not overlap, both
// must complete each datagram on the same frame with the same payload.
// zeek-ipv4-fragmented-4.pcap has overlapping fragments: Wireshark (and
// this package) reassemble them, ip4defrag never completes the datagram,
// which is why this package exists (see the package comment).
func TestAgainstIP4Defrag(t *testing.T) {
	for _, tc := range []struct {
		file    string
		overlap bool
	}{
		{"pcapplusplus-frag_http_req.pcap", false},
		{"zeek-ipv4-fragmented-syn.pcap", false},
		{"zeek-ipv4-fragmented-4.pcap", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "pcaps", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pr, err := pcapgo.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := New(), ip4defrag.NewIPv4Defragmenter()
			oursDone, theirsDone := 0, 0
			for n := 1; ; n++ {
				data, ci, err := pr.ReadPacketData()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				pkt := gopacket.NewPacket(data, pr.LinkType(), gopacket.Default)
				ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if ip == nil || ip.Flags&layers.IPv4MoreFragments == 0 && ip.FragOffset == 0 {
					continue
				}
				raw := append(append([]byte{}, ip.Contents...), ip.Payload...)
				got, err := ours.IPv4(raw, ci.Timestamp)
				if err != nil {
					t.Fatalf("frame %d: %v", n, err)
				}
				want, err := theirs.DefragIPv4(ip)
				if err != nil && !tc.overlap {
					t.Fatalf("frame %d: ip4defrag: %v", n, err)
				}
				if got != nil {
					oursDone++
				}
				if want != nil && err == nil {
					theirsDone++
				}
				if tc.overlap {
					continue
				}
				switch {
				case (got == nil) != (want == nil):
					t.Fatalf("frame %d: complete here for us %v, for ip4defrag %v", n, got != nil, want != nil)
				case got != nil && !bytes.Equal(got[int(got[0]&0x0F)*4:], want.Payload):
					t.Fatalf("frame %d: reassembled payloads differ (%d vs %d bytes)", n, len(got)-int(got[0]&0x0F)*4, len(want.Payload))
				}
			}
			t.Logf("%s: datagrams completed: ours %d, ip4defrag %d", tc.file, oursDone, theirsDone)
			if oursDone == 0 {
				t.Fatal("no datagram completed")
			}
			if tc.overlap && theirsDone >= oursDone {
				t.Logf("ip4defrag now completes the overlapping datagrams too: the package comment's reason may no longer hold")
			}
		})
	}
}

// TestAgainstIP4DefragGenerated: 300 datagrams of random size, cut into
// fragments of random (8-byte multiple) size, fed in order, in reverse and
// shuffled; ours and ip4defrag must complete each one on the same fragment
// with the same payload.
func TestAgainstIP4DefragGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1700000000, 0)
	for d := 0; d < 300; d++ {
		payload := make([]byte, 40+rng.IntN(8000))
		for i := range payload {
			payload[i] = byte(rng.IntN(256))
		}
		// Fragments as (offset, data) pieces.
		var pieces [][2]int
		for off := 0; off < len(payload); {
			size := 8 * (1 + rng.IntN(200))
			end := min(off+size, len(payload))
			if len(payload)-end < 8 {
				// ip4defrag refuses any fragment under 8 bytes, even a
				// legitimate last one (RFC 791 allows it; this package
				// and Wireshark take it), so keep to common ground.
				end = len(payload)
			}
			pieces = append(pieces, [2]int{off, end})
			off = end
		}
		switch d % 3 {
		case 1:
			slices.Reverse(pieces)
		case 2:
			rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		}
		ours, theirs := New(), ip4defrag.NewIPv4Defragmenter()
		for i, p := range pieces {
			ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, Id: uint16(d),
				SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}, FragOffset: uint16(p[0] / 8)}
			if p[1] < len(payload) {
				ip.Flags = layers.IPv4MoreFragments
			}
			buf := gopacket.NewSerializeBuffer()
			err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				ip, gopacket.Payload(payload[p[0]:p[1]]))
			if err != nil {
				t.Fatal(err)
			}
			raw := buf.Bytes()
			got, err := ours.IPv4(raw, now)
			if err != nil {
				t.Fatalf("datagram %d piece %d: %v", d, i, err)
			}
			var parsed layers.IPv4
			if err := parsed.DecodeFromBytes(raw, gopacket.NilDecodeFeedback); err != nil {
				t.Fatal(err)
			}
			want, err := theirs.DefragIPv4(&parsed)
			if err != nil {
				t.Fatalf("datagram %d piece %d: ip4defrag: %v", d, i, err)
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("datagram %d piece %d of %d: complete for us %v, for ip4defrag %v", d, i, len(pieces), got != nil, want != nil)
			}
			if got != nil && (!bytes.Equal(got[20:], want.Payload) || !bytes.Equal(got[20:], payload)) {
				t.Fatalf("datagram %d: reassembled payloads differ", d)
			}
		}
	}
}

// TestShortLastFragment: a last fragment shorter than 8 bytes is legal
// (RFC 791 only requires the others to be multiples of 8) and completes the
// datagram; ip4defrag refuses it.
func TestShortLastFragment(t *testing.T) {
	payload := []byte("0123456789abcdefWXYZ") // 16 + 4 bytes
	r := New()
	var got []byte
	for _, p := range [][2]int{{0, 16}, {16, 20}} {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, Id: 7,
			SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}, FragOffset: uint16(p[0] / 8)}
		if p[1] < len(payload) {
			ip.Flags = layers.IPv4MoreFragments
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			ip, gopacket.Payload(payload[p[0]:p[1]])); err != nil {
			t.Fatal(err)
		}
		var err error
		if got, err = r.IPv4(buf.Bytes(), time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if got == nil || !bytes.Equal(got[20:], payload) {
		t.Fatalf("reassembled %q, want %q", got, payload)
	}
}

// TestOversizedFragmentSaid: a fragment reaching past the 65535 bytes an
// IPv4 datagram can hold is refused with words that say so, not "too many
// fragments pending" (issue 20).
func TestOversizedFragmentSaid(t *testing.T) {
	r := New()
	h := make([]byte, 20, 20+200)
	h[0], h[8], h[9] = 0x45, 64, 6
	h[2], h[3] = 0, 220
	ff := uint16(65528 / 8) // last possible offset, 200 more bytes
	h[6], h[7] = byte(ff>>8), byte(ff)
	copy(h[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	_, err := r.IPv4(append(h, make([]byte, 200)...), time.Unix(1, 0))
	if err == nil || !strings.Contains(err.Error(), "fragment at offset 65528 with 200 bytes ends at byte 65728, beyond the 65515 bytes") {
		t.Fatalf("oversized fragment: %v", err)
	}
	if len(r.pending) != 0 {
		t.Fatalf("%d datagrams kept for a fragment that can never complete", len(r.pending))
	}
}
