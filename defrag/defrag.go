// Package defrag rebuilds IP datagrams from fragments, so that a TCP segment
// split across several frames is seen once, on the frame that completes it —
// where Wireshark shows it too.
//
// IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) share one small reassembler.
// gopacket's ip4defrag was tried first and set aside: it counts received
// bytes to decide that a datagram is complete, so overlapping fragments (as in
// zeek's fragmented-4.pcap, which Wireshark reassembles) never complete; it
// assumes 20-byte IPv4 headers; and it keeps the caller's buffers. gopacket
// has no IPv6 reassembler at all. Where fragments overlap, the lower offset
// wins. Memory is bounded: at most 1024 datagrams pending, 1024 fragments
// each, 60 s each.
//
// It does not decode TCP; hand the result to decode.DecodeIP.
package defrag

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// Limits that bound memory on hostile input.
const (
	maxPending   = 1024             // datagrams being reassembled at once
	fragTimeout  = 60 * time.Second // RFC 8200: 60 s reassembly timeout
	maxFragments = 1024             // per datagram
)

// Reassembler keeps fragments until their datagram is complete.
type Reassembler struct {
	pending  map[key]*datagram
	lastNext uint8 // Next Header of the datagram add just completed
}

// New returns an empty Reassembler.
func New() *Reassembler {
	return &Reassembler{pending: map[key]*datagram{}}
}

// IPv4 takes one IPv4 fragment (header and payload bytes). It returns the
// whole datagram once the last missing piece arrives, nil before that. The
// returned bytes belong to the caller.
func (r *Reassembler) IPv4(b []byte, t time.Time) ([]byte, error) {
	if len(b) < 20 || int(b[0]&0x0F)*4 > len(b) || b[0]&0x0F < 5 {
		return nil, errors.New("ipv4 fragment: bad header")
	}
	ihl := int(b[0]&0x0F) * 4
	end := len(b)
	if tl := int(b[2])<<8 | int(b[3]); tl >= ihl && tl < end {
		end = tl
	}
	ff := uint16(b[6])<<8 | uint16(b[7])
	src, _ := netip.AddrFromSlice(b[12:16])
	dst, _ := netip.AddrFromSlice(b[16:20])
	k := key{src: src, dst: dst, id: uint32(b[4])<<8 | uint32(b[5]), proto: b[9]}
	out, err := r.add(k, int(ff&0x1FFF)*8, ff&0x2000 != 0, b[:ihl], b[9], b[ihl:end], t, 0xFFFF-ihl)
	if out == nil || err != nil {
		return nil, err
	}
	tl := len(out)
	if tl > 0xFFFF {
		return nil, errors.New("ipv4 reassembly: datagram larger than 65535 bytes")
	}
	out[2], out[3] = byte(tl>>8), byte(tl)
	out[6], out[7] = out[6]&0x40, 0 // keep DF, clear MF and the offset
	out[10], out[11] = 0, 0
	var sum uint32
	for i := 0; i+1 < ihl; i += 2 {
		sum += uint32(out[i])<<8 | uint32(out[i+1])
	}
	for sum > 0xFFFF {
		sum = sum>>16 + sum&0xFFFF
	}
	cs := ^uint16(sum)
	out[10], out[11] = byte(cs>>8), byte(cs)
	return out, nil
}

type key struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 only: the protocol is part of the datagram's identity
}

type piece struct {
	off  int
	data []byte
}

type datagram struct {
	header []byte // IPv4 header, or IPv6 header + extension headers before the Fragment header
	next   uint8  // IPv6: Next Header of the fragmentable part
	frags  []piece
	total  int // length of the fragmentable part, known once the last fragment (MF/M = 0) is seen
	first  time.Time
}

// The limits on pending datagrams and on fragments per datagram, hit by a
// flood or a crafted capture; each says which.
var (
	errTooManyPending = errors.New("more than 1024 datagrams being reassembled at once: fragment dropped")
	errTooManyFrags   = errors.New("more than 1024 fragments for one datagram: datagram dropped")
)

// IPv6 takes one IPv6 datagram carrying a Fragment header at fragHdrOff
// (offset from the start of the IPv6 header). It returns the reassembled
// datagram, with the Fragment header removed, once complete.
func (r *Reassembler) IPv6(b []byte, fragHdrOff int, src, dst netip.Addr, t time.Time) ([]byte, error) {
	if fragHdrOff+8 > len(b) || fragHdrOff < 40 {
		return nil, errors.New("ipv6 fragment header out of range")
	}
	fh := b[fragHdrOff:]
	fo := uint16(fh[2])<<8 | uint16(fh[3])
	end := len(b)
	if pl := int(b[4])<<8 | int(b[5]); 40+pl < end {
		end = 40 + pl
	}
	if !chainReaches(b, fragHdrOff) {
		// setNextHeader walks this chain again on the reassembled copy.
		return nil, errors.New("ipv6 fragment: extension headers do not lead to the fragment header")
	}
	if end < fragHdrOff+8 {
		// The payload length ends before the Fragment header does (found
		// by FuzzIPv6: it used to slice backwards and panic).
		return nil, errors.New("ipv6 fragment: payload length ends inside the fragment header")
	}
	k := key{src: src, dst: dst, id: uint32(fh[4])<<24 | uint32(fh[5])<<16 | uint32(fh[6])<<8 | uint32(fh[7])}
	out, err := r.add(k, int(fo>>3)*8, fo&1 != 0, b[:fragHdrOff], fh[0], b[fragHdrOff+8:end], t, 0xFFFF-(fragHdrOff-40))
	if out == nil || err != nil {
		return nil, err
	}
	setNextHeader(out, fragHdrOff, r.lastNext)
	pl := len(out) - 40
	if pl > 0xFFFF {
		return nil, errors.New("ipv6 reassembly: datagram larger than 65535 bytes")
	}
	out[4], out[5] = byte(pl>>8), byte(pl)
	return out, nil
}

// add files one fragment and returns header+data once the datagram is whole.
// maxEnd is the largest end offset a fragment of this datagram may have: an
// IP datagram holds at most 65535 bytes, its header included (IPv6: its
// payload, the extension headers before the fragmentable part included).
func (r *Reassembler) add(k key, off int, more bool, header []byte, next uint8, data []byte, t time.Time, maxEnd int) ([]byte, error) {
	if off+len(data) > maxEnd {
		// Wireshark: "Fragment offset + length > 65535" territory. Not
		// filed: the datagram it belongs to could never be whole.
		delete(r.pending, k)
		return nil, fmt.Errorf("fragment at offset %d with %d bytes ends at byte %d, beyond the %d bytes a 65535-byte IP datagram leaves: a bogus fragment", off, len(data), off+len(data), maxEnd)
	}
	d := r.pending[k]
	if d == nil {
		r.expire(t)
		if len(r.pending) >= maxPending {
			return nil, errTooManyPending
		}
		d = &datagram{first: t, total: -1}
		r.pending[k] = d
	}
	if off == 0 {
		d.header = append(d.header[:0], header...)
		d.next = next
	}
	if !more {
		d.total = off + len(data)
	}
	if len(d.frags) >= maxFragments {
		delete(r.pending, k)
		return nil, errTooManyFrags
	}
	d.frags = append(d.frags, piece{off: off, data: append([]byte(nil), data...)})
	if d.header == nil || d.total < 0 {
		return nil, nil
	}
	sort.SliceStable(d.frags, func(i, j int) bool { return d.frags[i].off < d.frags[j].off })
	covered := 0
	for _, f := range d.frags {
		if f.off > covered {
			return nil, nil // a hole remains
		}
		covered = max(covered, f.off+len(f.data))
	}
	if covered < d.total {
		return nil, nil
	}
	out := make([]byte, len(d.header)+d.total)
	copy(out, d.header)
	// Fragments are sorted by offset; where they overlap, the one with the
	// lower offset wins (copied last).
	for i := len(d.frags) - 1; i >= 0; i-- {
		f := d.frags[i]
		if n := min(len(f.data), d.total-f.off); n > 0 {
			copy(out[len(d.header)+f.off:], f.data[:n])
		}
	}
	r.lastNext = d.next
	delete(r.pending, k)
	return out, nil
}

// setNextHeader rewrites the Next Header field that pointed at the Fragment
// header (in the IPv6 header or the last extension header before it).
// chainReaches reports whether the extension headers from byte 40 step
// exactly onto fragHdrOff inside b (found by FuzzIPv6: an offset the chain
// skips over made setNextHeader read past the header).
func chainReaches(b []byte, fragHdrOff int) bool {
	off := 40
	for off < fragHdrOff {
		if off+1 >= len(b) {
			return false
		}
		off += (int(b[off+1]) + 1) * 8
	}
	return off == fragHdrOff
}

func setNextHeader(b []byte, fragHdrOff int, next uint8) {
	pos := 6 // Next Header of the fixed header
	off := 40
	for off < fragHdrOff {
		pos = off // first byte of an extension header is its Next Header
		off += (int(b[off+1]) + 1) * 8
	}
	b[pos] = next
}

func (r *Reassembler) expire(now time.Time) {
	for k, d := range r.pending {
		if now.Sub(d.first) > fragTimeout {
			delete(r.pending, k)
		}
	}
}
