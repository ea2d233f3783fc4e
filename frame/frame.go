// Package frame holds the types every stage of tcpscope shares: a captured
// frame with its metadata, and the Source interface that capture and replay
// implement. It is the only leaf package; it imports nothing from the repo.
//
// It does not decode anything: link types are carried as numbers so that
// gopacket never leaks into decode, analysis or render.
package frame

import "time"

// LinkType is a pcap LINKTYPE_* value (https://www.tcpdump.org/linktypes.html).
// The file formats carry 16 bits; the type is wider so that LinkNone lies
// outside them (a file may well say 65535).
type LinkType uint32

// The link types that decode understands.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte address family in the writer's host order
	LinkEthernet LinkType = 1   // Ethernet II, possibly with 802.1Q/802.1ad tags
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6, version taken from the first nibble
	LinkLoop     LinkType = 108 // OpenBSD loopback: 4-byte address family in network order
	LinkSLL      LinkType = 113 // Linux cooked capture v1 ("any" device)
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
	LinkPPP      LinkType = 9   // PPP (RFC 1661), with or without the HDLC address/control bytes
	LinkPPPHDLC  LinkType = 50  // PPP in HDLC-like framing (RFC 1662), or Cisco HDLC
	LinkCHDLC    LinkType = 104 // Cisco HDLC: address, control, EtherType
	LinkNFLOG    LinkType = 239 // Linux netfilter log (tcpdump -i nflog:N): TLVs in host order
	// LinkNone marks a record that is not a packet (a pcapng custom
	// block), numbered as a frame as Wireshark does but never decoded.
	LinkNone LinkType = 1 << 16
)

// String names the link type as tcpdump does.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRaw, LinkIPv4, LinkIPv6:
		return "RAW"
	case LinkLoop:
		return "LOOP"
	case LinkSLL:
		return "LINUX_SLL"
	case LinkSLL2:
		return "LINUX_SLL2"
	case LinkPPP:
		return "PPP"
	case LinkPPPHDLC:
		return "PPP_HDLC"
	case LinkCHDLC:
		return "C_HDLC"
	case LinkNFLOG:
		return "NFLOG"
	case LinkNone:
		return "NONE"
	}
	if n, ok := linkTypeNames[l]; ok {
		return n
	}
	return "LINKTYPE_" + itoa(int(l))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for n > 0 && i > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Meta describes one captured frame.
type Meta struct {
	Number  int       // 1-based position in the capture, counting every frame
	Time    time.Time // capture timestamp
	CapLen  int       // bytes captured (len(Data))
	OrigLen int       // bytes on the wire; larger than CapLen when cut by the snaplen
	Link    LinkType  // link type of the interface the frame came from
}

// Frame is one captured frame. Data belongs to the Source and is valid only
// until the next call to Next; copy it to keep it.
type Frame struct {
	Data []byte
	Meta Meta
	// Tail is set by a source that copied only the frame's head
	// (HeadAppender): Data[Tail.Off:] then holds other bytes.
	Tail Tail
}

// Tail describes the bytes of a frame a HeadAppender did not copy. Zero
// (Off 0) when Data holds the whole frame.
type Tail struct {
	// Off: Data[Off:] holds whatever the buffer held there, not the
	// frame's bytes (until the source's FillLast).
	Off int
	// Summed: Sum holds the Internet checksum sum (RFC 1071: big-endian
	// 16-bit words, one's-complement, folded to 16 bits, not complemented)
	// of the frame's bytes from Off to its end, Off being even; enough to
	// verify a TCP checksum that covers them (see HeadSummer.SumLast).
	Summed bool
	Sum    uint16
	// At is the file offset of the frame's byte Off, for a TailReader.
	At int64
}

// Source yields frames in capture order. Next returns io.EOF after the last
// frame; any other error is returned, never dropped, and frames read before
// it remain valid.
type Source interface {
	Next() (Frame, error)
}

// Appender is a Source that can put a frame's bytes straight where the
// caller keeps them. A caller that copies every frame anyway (a pipeline
// reading ahead in batches) saves a copy: from a mapped file, the bytes are
// copied once, from the page cache to buf.
type Appender interface {
	Source
	// NextAppend reads the next frame as Next does, appends its bytes to
	// buf and returns the frame, whose Data aliases the appended bytes, and
	// the grown buf.
	NextAppend(buf []byte) (Frame, []byte, error)
}

// HeadAppender is an Appender that can copy only the head of a frame, for a
// caller that reads the headers and never the payload (tcpscope stats): the
// payload's bytes are not copied, nor even read from memory.
type HeadAppender interface {
	Appender
	// NextAppendHead is NextAppend copying only the frame's first n
	// bytes: Data has the frame's whole length, but its bytes past n hold
	// whatever buf held there until FillLast is called. A source that
	// cannot do it copies the whole frame.
	NextAppendHead(buf []byte, n int) (Frame, []byte, error)
	// FillLast copies the whole of the frame NextAppendHead returned last
	// into data, that frame's Data: for a frame whose headers turned out
	// to lie past n (or that needs its payload).
	FillLast(data []byte) error
}

// HeadSummer is a HeadAppender that can add up what it did not copy. A
// caller that shows checksum verdicts but no payload (tcpscope replay) then
// needs no copy of the payload: decode verifies the TCP checksum from the
// head's bytes and that sum (Tail.Sum), or, for a checksum left partial by
// offload (loopback), from the head alone, and the payload is not read.
type HeadSummer interface {
	HeadAppender
	// SumLast returns the Internet checksum sum (see Tail.Sum) of the bytes
	// of the frame NextAppendHead returned last from its Tail.Off on.
	SumLast() (uint16, error)
}

// HeadBatcher is a TailReader that copies the heads of many frames in one
// call. Why: a caller that decodes later (tcpscope stats) spends its
// reading goroutine on nothing but heads, and that goroutine paces the
// whole run; per frame, the call through two interfaces, the returned
// Frame's copies and the fault guard a mapped file needs (see replay's
// mapping) cost as much as copying the head itself.
type HeadBatcher interface {
	TailReader
	// NextHeads reads up to len(out) frames as NextAppendHead(buf, n)
	// would, one after the other, into out, and returns how many it read
	// and buf with them appended (each frame's whole length, of which the
	// first n bytes are copied). It stops early, with a nil error, before
	// a frame that would not fit in buf's capacity, but never before the
	// first. err is what ended the run early (io.EOF at the end): the k
	// frames before it are valid. With sum, each frame's uncopied bytes
	// are also added up (Tail.Summed and Sum, as HeadSummer.SumLast), where
	// the source can: for a caller that verifies every checksum.
	NextHeads(buf []byte, n int, sum bool, out []Frame) (k int, _ []byte, err error)
}

// TailReader is a HeadAppender that can copy a frame's uncopied bytes
// later, once the caller knows it wants them: tcpscope follow reads every
// frame's headers but the payload of one connection only, and which frames
// are that connection's is known only after the analysis, on another
// goroutine than the reading one.
type TailReader interface {
	HeadAppender
	// ReadTail copies the bytes of f (as NextAppendHead returned it) past
	// f.Tail.Off into f.Data[f.Tail.Off:]. It may be called from other
	// goroutines than the one reading frames (the source serialises the
	// calls), until the source is closed, in any order of frames.
	ReadTail(f Frame) error
	// SumTail is ReadTail's sum of those bytes instead of their copy (see
	// Tail.Sum; HeadSummer.SumLast), under the same rules.
	SumTail(f Frame) (uint16, error)
}

// TailViewer is a TailReader that can lend a frame's bytes where they lie
// instead of copying them. Why: tcpscope follow turns a stream's payload
// into text once; copying each frame's rest into its buffer first
// (ReadTail) moved every byte of the stream twice (the copy was 13 % of
// follow's CPU profile on a 414 MB stream; lent, follow takes 3 % less
// CPU, the cache misses moving to the text conversion).
type TailViewer interface {
	TailReader
	// ViewFrame calls use with f's bytes from off to off+n (within
	// f.Data's length; for a frame copied whole, a slice of f.Data
	// itself), under the same rules as ReadTail. use must not keep data
	// nor write to it, and must not call the source: the source holds
	// them for use's call alone. A fault while use reads them (a mapped
	// file cut short under it) ends use, and ViewFrame returns it as an
	// error naming the frame.
	ViewFrame(f Frame, off, n int, use func(data []byte)) error
}
