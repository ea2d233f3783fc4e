package analysis_test

// Test-only capture reading: gopacket turns each frame of a pcap or pcapng
// file into an analysis.Segment, the way the decode package will in the
// product. gopacket stays out of the analysis package itself.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpscope/tcpscope/analysis"
)

// capturedSegment is one TCP frame of a capture, or the reason it was skipped.
type capturedSegment struct {
	seg  analysis.Segment
	skip string // "" when seg is valid; otherwise why the frame is not used
}

// readCapture returns the TCP segments of a capture by frame number (frames
// without TCP are absent) and the frames that look like TCP but that the
// test cannot use (IP fragments, frames gopacket cannot decode).
func readCapture(path string) (map[int]capturedSegment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var linkOf func(ci gopacket.CaptureInfo) int
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == 0x0A0D0D0A {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		src = r
		linkOf = func(ci gopacket.CaptureInfo) int {
			if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
				return int(intf.LinkType)
			}
			return int(r.LinkType())
		}
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		src = r
		// gopacket 1.1.19 keeps link types in a uint8, which turns
		// LINKTYPE_LINUX_SLL2 (276) into 20; read the header's value.
		var order binary.ByteOrder = binary.LittleEndian
		if binary.BigEndian.Uint32(data) == 0xa1b2c3d4 || binary.BigEndian.Uint32(data) == 0xa1b23c4d {
			order = binary.BigEndian
		}
		lt := int(order.Uint32(data[20:24]) & 0x0fffffff)
		linkOf = func(gopacket.CaptureInfo) int { return lt }
	}
	out := map[int]capturedSegment{}
	for frame := 1; ; frame++ {
		pkt, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A damaged record ends the file for us; tshark stops there too.
			break
		}
		seg, skip, isTCP := toSegment(pkt, ci, linkOf(ci))
		if !isTCP {
			continue
		}
		seg.Frame = frame
		out[frame] = capturedSegment{seg: seg, skip: skip}
	}
	return out, nil
}

// toSegment decodes one frame. isTCP is false for frames with no TCP at all.
func toSegment(pkt []byte, ci gopacket.CaptureInfo, lt int) (seg analysis.Segment, skip string, isTCP bool) {
	var first gopacket.Decoder = layers.LinkType(lt)
	switch lt {
	case 228:
		first = layers.LayerTypeIPv4
	case 229:
		first = layers.LayerTypeIPv6
	case 276: // Linux cooked v2, unknown to gopacket 1.1.19: 20-byte header, protocol first
		if len(pkt) < 20 {
			return seg, "", false
		}
		first = layers.EthernetType(binary.BigEndian.Uint16(pkt[0:2]))
		pkt = pkt[20:]
	}
	wireLen := ci.Length - (ci.CaptureLength - len(pkt)) // frame length from this header on
	p := gopacket.NewPacket(pkt, first, gopacket.Default)
	// offset of a layer inside the frame: layers slice into p.Data().
	offset := func(b []byte) int { return cap(p.Data()) - cap(b) }
	tl, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tl == nil {
		if p.ErrorLayer() != nil && p.Layer(layers.LayerTypeIPv4) != nil {
			if ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ip.Protocol == layers.IPProtocolTCP {
				if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
					return seg, "IP fragment", true
				}
				return seg, "gopacket could not decode TCP", true
			}
		}
		return seg, "", false
	}
	// The innermost IP header before TCP gives addresses and lengths.
	var ip4 *layers.IPv4
	var ip6 *layers.IPv6
	var ext int // IPv6 extension header bytes
	for _, l := range p.Layers() {
		switch v := l.(type) {
		case *layers.IPv4:
			ip4, ip6, ext = v, nil, 0
		case *layers.IPv6:
			ip4, ip6, ext = nil, v, 0
		case *layers.IPv6HopByHop:
			if ip6 != nil && ip6.Length != 0 {
				ext += len(v.Contents)
			}
		case *layers.IPv6Destination, *layers.IPv6Routing:
			ext += len(l.LayerContents())
		case *layers.IPv6Fragment:
			return seg, "IP fragment", true
		}
	}
	hdr := int(tl.DataOffset) * 4
	if hdr < 20 { // tshark stops at a bogus header length and analyses nothing
		return seg, "bogus TCP header length", true
	}
	var segLen int
	switch {
	case ip4 != nil:
		if ip4.Flags&layers.IPv4MoreFragments != 0 || ip4.FragOffset != 0 {
			return seg, "IP fragment", true
		}
		seg.Src = netip.AddrPortFrom(addr(ip4.SrcIP), uint16(tl.SrcPort))
		seg.Dst = netip.AddrPortFrom(addr(ip4.DstIP), uint16(tl.DstPort))
		// Wireshark trusts the IP total length but never beyond the end of
		// the frame as it was on the wire; a total length of 0 (TSO) means
		// "to the end of the frame".
		ipLen := wireLen - offset(ip4.Contents)
		if ip4.Length != 0 && int(ip4.Length) < ipLen {
			ipLen = int(ip4.Length)
		}
		segLen = ipLen - int(ip4.IHL)*4 - hdr
	case ip6 != nil:
		seg.Src = netip.AddrPortFrom(addr(ip6.SrcIP), uint16(tl.SrcPort))
		seg.Dst = netip.AddrPortFrom(addr(ip6.DstIP), uint16(tl.DstPort))
		if ip6.Length == 0 { // jumbogram: gopacket sized the payload from the option
			segLen = len(tl.Contents) + len(tl.Payload) - hdr
		} else {
			ipLen := wireLen - offset(ip6.Contents) - 40
			if int(ip6.Length) < ipLen {
				ipLen = int(ip6.Length)
			}
			segLen = ipLen - ext - hdr
		}
	default:
		return seg, "TCP without IP", true
	}
	if segLen < 0 {
		return seg, "TCP header longer than IP payload", true
	}
	seg.Time = ci.Timestamp
	seg.Seq, seg.Ack = tl.Seq, tl.Ack
	seg.Window = tl.Window
	seg.Len = segLen
	for _, b := range []struct {
		on  bool
		bit uint8
	}{{tl.FIN, analysis.FIN}, {tl.SYN, analysis.SYN}, {tl.RST, analysis.RST}, {tl.PSH, analysis.PSH},
		{tl.ACK, analysis.ACK}, {tl.URG, analysis.URG}, {tl.ECE, analysis.ECE}, {tl.CWR, analysis.CWR}} {
		if b.on {
			seg.Flags |= b.bit
		}
	}
	seg.MSS, seg.WScale = -1, -1
	for _, o := range tl.Options {
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(o.OptionData) == 2 {
				seg.MSS = int(binary.BigEndian.Uint16(o.OptionData))
			}
		case layers.TCPOptionKindWindowScale:
			if len(o.OptionData) == 1 {
				seg.WScale = int(o.OptionData[0])
			}
		case layers.TCPOptionKindSACKPermitted:
			seg.SACKPerm = true
		case layers.TCPOptionKindSACK:
			for d := o.OptionData; len(d) >= 8; d = d[8:] {
				seg.SACK = append(seg.SACK, analysis.SACKBlock{
					Left: binary.BigEndian.Uint32(d), Right: binary.BigEndian.Uint32(d[4:])})
			}
		case layers.TCPOptionKindTimestamps:
			if len(o.OptionData) == 8 {
				seg.HasTS = true
				seg.TSVal = binary.BigEndian.Uint32(o.OptionData)
				seg.TSEcr = binary.BigEndian.Uint32(o.OptionData[4:])
			}
		}
	}
	return seg, "", true
}

func addr(ip []byte) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		panic(fmt.Sprintf("bad IP %v", ip))
	}
	return a.Unmap()
}
