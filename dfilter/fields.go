package dfilter

import (
	"net/netip"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// kind is how a field's values compare: the semantic class behind
// Wireshark's FT_* type names.
type kind uint8

const (
	kProto kind = iota // FT_PROTOCOL: a protocol layer; presence only
	kNone              // FT_NONE: a label (an analysis verdict); presence only
	kBool              // FT_BOOLEAN: 0 or 1, present on every frame that has the header
	kInt               // FT_UINT*, FT_INT*, FT_FRAMENUM: integers
	kTime              // FT_RELATIVE_TIME: nanoseconds, written in seconds
	kIPv4              // FT_IPv4: an address (compares with CIDR prefixes)
	kIPv6              // FT_IPv6
	kEther             // FT_ETHER: a 6-byte MAC address
	kBytes             // FT_BYTES: a byte string
)

// maxVals is the most values one field has in one frame: four SACK blocks
// is the largest case (ip.addr and tcp.port have two).
const maxVals = 8

// vals holds a field's values in one frame, in fixed arrays so that
// reading a field allocates nothing. Only the array of the field's kind is
// used; n is the count (0 = the field is absent from this frame).
type vals struct {
	n    int
	num  [maxVals]int64      // kBool, kInt, kTime
	addr [maxVals]netip.Addr // kIPv4, kIPv6
	bits [maxVals]int16      // prefix length of addr (a literal /n); -1 = the whole address
	raw  [maxVals][]byte     // kEther, kBytes: aliases the frame (or the literal)
}

func (v *vals) addNum(x int64) {
	v.num[v.n] = x
	v.n++
}

func (v *vals) addBool(b bool) {
	if b {
		v.addNum(1)
	} else {
		v.addNum(0)
	}
}

func (v *vals) addAddr(a netip.Addr) {
	v.addr[v.n], v.bits[v.n] = a, -1
	v.n++
}

func (v *vals) addRaw(b []byte) {
	v.raw[v.n] = b
	v.n++
}

// getFn writes one field's values for the current frame into v (whose n
// is 0 on entry).
type getFn func(c *evalCtx, v *vals)

// Field describes one display-filter field, as `tcpscope fields` lists it.
type Field struct {
	Name  string // as in Wireshark: tcp.analysis.ack_rtt
	Type  string // Wireshark's type name: FT_UINT32, FT_RELATIVE_TIME, …
	Blurb string // one line: what the field means
	kind  kind
	get   getFn
}

// fieldTable returns every field tcpscope knows, in the order `tcpscope
// fields` prints them. Each getter reads the frame as tshark 4.0 would
// show it: a field absent from tshark's tree (an analysis value tshark
// leaves out, an option the segment lacks) leaves v empty.
func fieldTable() []Field {
	tcp := func(c *evalCtx) bool { return c.it.Packet.TCP != nil }
	// an: tshark shows the sequence analysis of this segment: it was
	// analysed, and dissecting its options raised no exception (an empty
	// SACK option, options cut by the snaplen), which ends tshark's TCP
	// tree before the analysis.
	an := func(c *evalCtx) bool {
		it := c.it
		return it.Analyzed && it.Packet.TCP != nil && !it.Packet.TCPShort && !it.Segment.EmptySACK && !it.Packet.Options.Truncated
	}
	flag := func(name, blurb string, f analysis.Flags) Field {
		return Field{name, "FT_NONE", blurb, kNone, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.Flags&f != 0 {
				v.addNum(1)
			}
		}}
	}
	tcpFlag := func(name, blurb string, bit uint8) Field {
		return Field{name, "FT_BOOLEAN", blurb, kBool, func(c *evalCtx, v *vals) {
			if tcp(c) && !(bit&(analysis.CWR|analysis.ECE) != 0 && c.isAccECN()) {
				v.addBool(c.it.Packet.TCP.Flags()&bit != 0)
			}
		}}
	}
	ip4 := func(c *evalCtx) bool { return c.it.Packet.IPVersion == 4 }
	ip6 := func(c *evalCtx) bool { return c.it.Packet.IPVersion == 6 }
	eth := func(c *evalCtx) bool {
		return c.it.Frame.Meta.Link == frame.LinkEthernet && len(c.it.Frame.Data) >= 14
	}
	return []Field{
		{"frame", "FT_PROTOCOL", "every frame", kProto, func(c *evalCtx, v *vals) { v.addNum(1) }},
		{"frame.number", "FT_FRAMENUM", "frame number, counting every frame of the capture from 1", kInt, func(c *evalCtx, v *vals) {
			v.addNum(int64(c.it.Frame.Meta.Number))
		}},
		{"frame.time_relative", "FT_RELATIVE_TIME", "seconds since the first frame of the capture", kTime, func(c *evalCtx, v *vals) {
			v.addNum(int64(c.it.Frame.Meta.Time.Sub(c.first)))
		}},
		{"frame.time_delta", "FT_RELATIVE_TIME", "seconds since the previous frame of the capture (shown or not)", kTime, func(c *evalCtx, v *vals) {
			v.addNum(int64(c.delta))
		}},
		{"frame.len", "FT_UINT32", "frame length on the wire", kInt, func(c *evalCtx, v *vals) {
			m := c.it.Frame.Meta
			if m.OrigLen > 0 {
				v.addNum(int64(m.OrigLen))
			} else {
				v.addNum(int64(len(c.it.Frame.Data)))
			}
		}},
		{"frame.cap_len", "FT_UINT32", "bytes of the frame stored in the capture (less than frame.len when the snaplen cut it)", kInt, func(c *evalCtx, v *vals) {
			v.addNum(int64(len(c.it.Frame.Data)))
		}},

		{"eth", "FT_PROTOCOL", "an Ethernet II header", kProto, func(c *evalCtx, v *vals) {
			if eth(c) {
				v.addNum(1)
			}
		}},
		{"eth.dst", "FT_ETHER", "destination MAC address", kEther, func(c *evalCtx, v *vals) {
			if eth(c) {
				v.addRaw(c.it.Frame.Data[0:6])
			}
		}},
		{"eth.src", "FT_ETHER", "source MAC address", kEther, func(c *evalCtx, v *vals) {
			if eth(c) {
				v.addRaw(c.it.Frame.Data[6:12])
			}
		}},
		{"eth.addr", "FT_ETHER", "source or destination MAC address", kEther, func(c *evalCtx, v *vals) {
			if eth(c) {
				v.addRaw(c.it.Frame.Data[0:6])
				v.addRaw(c.it.Frame.Data[6:12])
			}
		}},

		{"ip", "FT_PROTOCOL", "an IPv4 header", kProto, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(1)
			}
		}},
		{"ip.src", "FT_IPv4", "IPv4 source address", kIPv4, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addAddr(c.it.Packet.Src)
			}
		}},
		{"ip.dst", "FT_IPv4", "IPv4 destination address", kIPv4, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addAddr(c.it.Packet.Dst)
			}
		}},
		{"ip.addr", "FT_IPv4", "IPv4 source or destination address (== matches either, != neither)", kIPv4, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addAddr(c.it.Packet.Src)
				v.addAddr(c.it.Packet.Dst)
			}
		}},
		{"ip.hdr_len", "FT_UINT8", "IPv4 header length in bytes", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.HeaderLen()))
			}
		}},
		{"ip.dsfield", "FT_UINT8", "differentiated services byte (DSCP and ECN)", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.TOS()))
			}
		}},
		{"ip.len", "FT_UINT16", "IPv4 total length (header and payload)", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.TotalLen()))
			}
		}},
		{"ip.id", "FT_UINT16", "IPv4 identification", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.ID()))
			}
		}},
		{"ip.flags.df", "FT_BOOLEAN", "don't-fragment flag", kBool, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addBool(c.it.Packet.IPv4.DF())
			}
		}},
		{"ip.flags.mf", "FT_BOOLEAN", "more-fragments flag", kBool, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addBool(c.it.Packet.IPv4.MF())
			}
		}},
		{"ip.ttl", "FT_UINT8", "time to live", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.TTL()))
			}
		}},
		{"ip.proto", "FT_UINT8", "protocol of the payload (6 = TCP)", kInt, func(c *evalCtx, v *vals) {
			if ip4(c) {
				v.addNum(int64(c.it.Packet.IPv4.Protocol()))
			}
		}},

		{"ipv6", "FT_PROTOCOL", "an IPv6 header", kProto, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addNum(1)
			}
		}},
		{"ipv6.src", "FT_IPv6", "IPv6 source address", kIPv6, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addAddr(c.it.Packet.Src)
			}
		}},
		{"ipv6.dst", "FT_IPv6", "IPv6 destination address", kIPv6, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addAddr(c.it.Packet.Dst)
			}
		}},
		{"ipv6.addr", "FT_IPv6", "IPv6 source or destination address (== matches either, != neither)", kIPv6, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addAddr(c.it.Packet.Src)
				v.addAddr(c.it.Packet.Dst)
			}
		}},
		{"ipv6.flow", "FT_UINT24", "flow label", kInt, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addNum(int64(c.it.Packet.IPv6.FlowLabel()))
			}
		}},
		{"ipv6.plen", "FT_UINT16", "payload length (bytes after the fixed 40-byte header)", kInt, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addNum(int64(c.it.Packet.IPv6.PayloadLen()))
			}
		}},
		{"ipv6.nxt", "FT_UINT8", "next header of the fixed header (6 = TCP)", kInt, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addNum(int64(c.it.Packet.IPv6.NextHeader()))
			}
		}},
		{"ipv6.hlim", "FT_UINT8", "hop limit", kInt, func(c *evalCtx, v *vals) {
			if ip6(c) {
				v.addNum(int64(c.it.Packet.IPv6.HopLimit()))
			}
		}},

		{"tcp", "FT_PROTOCOL", "a TCP header (even a truncated one)", kProto, func(c *evalCtx, v *vals) {
			if tcp(c) || c.it.Packet.TCPHeaderTruncated {
				v.addNum(1)
			}
		}},
		{"tcp.srcport", "FT_UINT16", "source port", kInt, func(c *evalCtx, v *vals) {
			if p, _, ok := ports(c); ok {
				v.addNum(int64(p))
			}
		}},
		{"tcp.dstport", "FT_UINT16", "destination port", kInt, func(c *evalCtx, v *vals) {
			if _, p, ok := ports(c); ok {
				v.addNum(int64(p))
			}
		}},
		{"tcp.port", "FT_UINT16", "source or destination port (== matches either, != neither)", kInt, func(c *evalCtx, v *vals) {
			if s, d, ok := ports(c); ok {
				v.addNum(int64(s))
				v.addNum(int64(d))
			}
		}},
		{"tcp.stream", "FT_UINT32", "connection index, from 0 in order of first appearance", kInt, func(c *evalCtx, v *vals) {
			if c.it.Analyzed {
				v.addNum(int64(c.it.Result.Stream))
			}
		}},
		{"tcp.seq", "FT_UINT32", "sequence number, relative to the sender's initial one", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Analyzed {
				v.addNum(int64(c.it.Result.Seq))
			}
		}},
		{"tcp.seq_raw", "FT_UINT32", "sequence number as on the wire", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.Seq()))
			}
		}},
		{"tcp.nxtseq", "FT_UINT32", "relative sequence number of the sender's next segment (seq + len, + 1 for SYN, + 1 for FIN)", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Analyzed && !c.it.Packet.TCPShort {
				n := c.it.Result.Seq + uint32(c.it.Packet.PayloadLen)
				f := c.it.Packet.TCP.Flags()
				if f&analysis.SYN != 0 {
					n++
				}
				if f&analysis.FIN != 0 {
					n++
				}
				v.addNum(int64(n))
			}
		}},
		{"tcp.ack", "FT_UINT32", "acknowledgement number, relative to the peer's initial sequence number (0 without ACK)", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Analyzed {
				v.addNum(int64(c.it.Result.Ack))
			}
		}},
		{"tcp.ack_raw", "FT_UINT32", "acknowledgement number as on the wire", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.Ack()))
			}
		}},
		{"tcp.len", "FT_UINT32", "payload length in bytes", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.PayloadLen))
			}
		}},
		{"tcp.hdr_len", "FT_UINT8", "header length in bytes (data offset × 4)", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.HeaderLen()))
			}
		}},
		{"tcp.flags", "FT_UINT16", "the 12 flag bits as a number (SYN = 0x002, ACK = 0x010, AE = 0x100)", kInt, func(c *evalCtx, v *vals) {
			if t := c.it.Packet.TCP; t != nil {
				v.addNum(int64(t[12]&0x0F)<<8 | int64(t.Flags()))
			}
		}},
		{"tcp.flags.res", "FT_BOOLEAN", "reserved flag bits (0x0E00) set", kBool, func(c *evalCtx, v *vals) {
			if t := c.it.Packet.TCP; t != nil {
				v.addBool(t.Reserved() != 0)
			}
		}},
		{"tcp.flags.ae", "FT_BOOLEAN", "AE (accurate ECN, formerly NS) flag; not after an accurate-ECN handshake (see tcp.flags.ace)", kBool, func(c *evalCtx, v *vals) {
			if t := c.it.Packet.TCP; t != nil && !c.isAccECN() {
				v.addBool(t.AE())
			}
		}},
		{"tcp.flags.ace", "FT_UINT8", "accurate-ECN counter: the AE, CWR and ECE bits as one number, on segments after an accurate-ECN SYN", kInt, func(c *evalCtx, v *vals) {
			if t := c.it.Packet.TCP; t != nil && c.isAccECN() {
				v.addNum(int64(t[12]&0x01)<<2 | int64(t.Flags()>>6))
			}
		}},
		tcpFlag("tcp.flags.cwr", "CWR (congestion window reduced) flag; not after an accurate-ECN handshake", analysis.CWR),
		tcpFlag("tcp.flags.ece", "ECE (ECN echo) flag; not after an accurate-ECN handshake", analysis.ECE),
		tcpFlag("tcp.flags.urg", "URG flag", analysis.URG),
		tcpFlag("tcp.flags.ack", "ACK flag", analysis.ACK),
		tcpFlag("tcp.flags.push", "PSH flag", analysis.PSH),
		tcpFlag("tcp.flags.reset", "RST flag", analysis.RST),
		tcpFlag("tcp.flags.syn", "SYN flag", analysis.SYN),
		tcpFlag("tcp.flags.fin", "FIN flag", analysis.FIN),
		{"tcp.window_size_value", "FT_UINT16", "window field as on the wire, before scaling", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.Window()))
			}
		}},
		{"tcp.window_size", "FT_UINT32", "window after scaling (raw while the scale is unknown)", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Analyzed && !c.it.Packet.TCPShort {
				v.addNum(int64(c.it.Result.Win))
			}
		}},
		{"tcp.window_size_scalefactor", "FT_INT32", "factor the window is multiplied by (-1 = unknown, -2 = no scaling); not on SYNs", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Analyzed && !c.it.Packet.TCPShort && c.it.Packet.TCP.Flags()&analysis.SYN == 0 {
				if s := c.it.Result.WinScale; s >= 0 {
					v.addNum(1 << s)
				} else {
					v.addNum(int64(s))
				}
			}
		}},
		{"tcp.checksum", "FT_UINT16", "checksum as on the wire", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.Checksum()))
			}
		}},
		{"tcp.checksum.status", "FT_UINT8", "checksum verdict: 0 bad, 1 good, 2 unverified (cut by the snaplen, or left partial by offload as on loopback)", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				switch c.it.Packet.TCPChecksum {
				case decode.ChecksumOK:
					v.addNum(1)
				case decode.ChecksumBad:
					v.addNum(0)
				default:
					v.addNum(2)
				}
			}
		}},
		{"tcp.urgent_pointer", "FT_UINT16", "urgent pointer", kInt, func(c *evalCtx, v *vals) {
			if tcp(c) {
				v.addNum(int64(c.it.Packet.TCP.Urgent()))
			}
		}},
		{"tcp.options.mss_val", "FT_UINT16", "MSS option: the largest segment the sender accepts", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && o.HasMSS {
				v.addNum(int64(o.MSS))
			}
		}},
		{"tcp.options.wscale.shift", "FT_UINT8", "window-scale option: the shift count as sent", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && o.HasWScale {
				v.addNum(int64(o.WScale))
			}
		}},
		{"tcp.options.wscale.multiplier", "FT_UINT16", "window-scale option: 2 to the power of the shift (at most 2^14)", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && o.HasWScale {
				v.addNum(1 << min(o.WScale, 14))
			}
		}},
		{"tcp.options.sack_perm", "FT_NONE", "SACK-permitted option", kNone, func(c *evalCtx, v *vals) {
			if tcp(c) && c.it.Packet.Options.SACKPerm {
				v.addNum(1)
			}
		}},
		{"tcp.options.sack_le", "FT_UINT32", "SACK block left edges, relative to the peer's initial sequence number", kInt, func(c *evalCtx, v *vals) {
			sackEdges(c, v, false)
		}},
		{"tcp.options.sack_re", "FT_UINT32", "SACK block right edges, relative to the peer's initial sequence number", kInt, func(c *evalCtx, v *vals) {
			sackEdges(c, v, true)
		}},
		{"tcp.options.sack.count", "FT_UINT8", "number of SACK blocks", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && (o.NSACK > 0 || o.EmptySACK) {
				v.addNum(int64(o.NSACK))
			}
		}},
		{"tcp.options.timestamp.tsval", "FT_UINT32", "timestamps option: the sender's clock", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && o.HasTS {
				v.addNum(int64(o.TSVal))
			}
		}},
		{"tcp.options.timestamp.tsecr", "FT_UINT32", "timestamps option: the peer's clock echoed", kInt, func(c *evalCtx, v *vals) {
			if o := &c.it.Packet.Options; tcp(c) && o.HasTS {
				v.addNum(int64(o.TSEcr))
			}
		}},
		{"tcp.payload", "FT_BYTES", "the segment's payload bytes (as captured)", kBytes, func(c *evalCtx, v *vals) {
			// tshark shows the data of a RST as its reset cause, not as payload.
			if p := c.it.Packet.Payload; tcp(c) && len(p) > 0 && !c.it.Segment.EmptySACK && !c.it.Packet.Options.Truncated &&
				c.it.Packet.TCP.Flags()&analysis.RST == 0 {
				v.addRaw(p)
			}
		}},

		{"tcp.analysis.flags", "FT_NONE", "any tcp.analysis verdict: retransmission, lost segment, … window update, reused ports", kNone, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.Flags != 0 {
				v.addNum(1)
			}
		}},
		flag("tcp.analysis.retransmission", "data sent again: any retransmission, fast and spurious ones included", analysis.Retransmission|analysis.FastRetransmission|analysis.SpuriousRetransmission),
		flag("tcp.analysis.fast_retransmission", "data sent again after duplicate ACKs", analysis.FastRetransmission),
		flag("tcp.analysis.spurious_retransmission", "data sent again that was already acknowledged", analysis.SpuriousRetransmission),
		flag("tcp.analysis.out_of_order", "older data arriving soon after newer data", analysis.OutOfOrder),
		flag("tcp.analysis.lost_segment", "a gap: earlier data never reached the capture", analysis.LostSegment),
		flag("tcp.analysis.ack_lost_segment", "acknowledges data the capture never saw", analysis.AckLostSegment),
		flag("tcp.analysis.duplicate_ack", "the same ACK again, hinting at a loss", analysis.DuplicateAck),
		{"tcp.analysis.duplicate_ack_num", "FT_UINT32", "duplicate ACK number n in a row", kInt, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.DupAckNum > 0 {
				v.addNum(int64(c.it.Result.DupAckNum))
			}
		}},
		{"tcp.analysis.duplicate_ack_frame", "FT_FRAMENUM", "frame of the ACK this one duplicates", kInt, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.DupAckNum > 0 {
				v.addNum(int64(c.it.Result.DupAckFrame))
			}
		}},
		flag("tcp.analysis.zero_window", "the sender has no receive buffer left", analysis.ZeroWindow),
		flag("tcp.analysis.zero_window_probe", "one byte sent into a zero window to test it", analysis.ZeroWindowProbe),
		flag("tcp.analysis.zero_window_probe_ack", "the answer to a zero-window probe", analysis.ZeroWindowProbeAck),
		flag("tcp.analysis.window_full", "data fills the receiver's window exactly", analysis.WindowFull),
		flag("tcp.analysis.window_update", "only the advertised window changed", analysis.WindowUpdate),
		flag("tcp.analysis.keep_alive", "an idle-connection probe", analysis.KeepAlive),
		flag("tcp.analysis.keep_alive_ack", "the answer to a keep-alive", analysis.KeepAliveAck),
		flag("tcp.analysis.reused_ports", "a new connection on the ports of an older one", analysis.ReusedPorts),
		{"tcp.analysis.acks_frame", "FT_FRAMENUM", "frame whose data this ACK acknowledges", kInt, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.AcksFrame > 0 {
				v.addNum(int64(c.it.Result.AcksFrame))
			}
		}},
		{"tcp.analysis.ack_rtt", "FT_RELATIVE_TIME", "seconds from that frame to this ACK", kTime, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.HasAckRTT {
				v.addNum(int64(c.it.Result.AckRTT))
			}
		}},
		{"tcp.analysis.initial_rtt", "FT_RELATIVE_TIME", "handshake round trip: SYN to the ACK of the SYN-ACK", kTime, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.HasInitialRTT {
				v.addNum(int64(c.it.Result.InitialRTT))
			}
		}},
		{"tcp.analysis.bytes_in_flight", "FT_UINT32", "bytes sent this way and not yet acknowledged", kInt, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.HasBIF {
				v.addNum(int64(c.it.Result.BytesInFlight))
			}
		}},
		{"tcp.analysis.push_bytes_sent", "FT_UINT32", "payload bytes sent this way since the last PSH, this segment's included", kInt, func(c *evalCtx, v *vals) {
			if an(c) && c.it.Result.HasPushBytes {
				v.addNum(int64(c.it.Result.PushBytesSent))
			}
		}},
	}
}

// ports returns the TCP ports, also from a header cut short by the snaplen
// (tshark shows the ports it has).
func ports(c *evalCtx) (src, dst uint16, ok bool) {
	p := &c.it.Packet
	if p.TCP != nil {
		return p.TCP.SrcPort(), p.TCP.DstPort(), true
	}
	if b := p.TCPPartial; p.TCPHeaderTruncated && len(b) >= 4 {
		return uint16(b[0])<<8 | uint16(b[1]), uint16(b[2])<<8 | uint16(b[3]), true
	}
	return 0, 0, false
}

// sackEdges adds the SACK block edges of the segment, relative to the
// peer's initial sequence number as tshark 4.0 shows them (even with
// relative sequence numbers turned off). That ISN is the raw ACK number
// less the relative one.
func sackEdges(c *evalCtx, v *vals, right bool) {
	p := &c.it.Packet
	if p.TCP == nil || p.Options.NSACK == 0 {
		return
	}
	base := uint32(0)
	if c.it.Analyzed && p.TCP.Flags()&analysis.ACK != 0 {
		base = p.TCP.Ack() - c.it.Result.Ack
	}
	for i := 0; i < p.Options.NSACK && v.n < maxVals; i++ {
		e := p.Options.SACK[i].Left
		if right {
			e = p.Options.SACK[i].Right
		}
		v.addNum(int64(e - base))
	}
}
