package replay

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/tcpscope/tcpscope/frame"
)

// MaxFrame is the largest record tcpscope accepts: libpcap's own limit for
// files (262144 bytes, MAXIMUM_SNAPLEN). A bigger length means a corrupt
// file, and believing it would make us allocate gigabytes.
const MaxFrame = 262144

// Classic pcap magic numbers, as the writer's host wrote them.
const (
	magicMicro = 0xA1B2C3D4 // microsecond timestamps
	magicNano  = 0xA1B23C4D // nanosecond timestamps
)

// pcapReader reads the classic libpcap format
// (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html). The
// file header and record headers are in the *writer's* byte order, found
// from the magic number; only the packet bytes are in network order.
type pcapReader struct {
	r       io.Reader
	order   binary.ByteOrder
	nano    bool
	link    frame.LinkType
	snaplen uint32
	hdr     [16]byte
	buf     []byte
	n       int   // frames read
	off     int64 // file offset of the next record
}

func newPcapReader(r io.Reader, head []byte) (*pcapReader, error) {
	p := &pcapReader{r: r}
	var h [24]byte
	copy(h[:], head)
	if _, err := io.ReadFull(r, h[len(head):]); err != nil {
		return nil, fmt.Errorf("pcap file header cut short: %w", unexpected(err))
	}
	switch {
	case binary.LittleEndian.Uint32(h[0:]) == magicMicro:
		p.order = binary.LittleEndian
	case binary.LittleEndian.Uint32(h[0:]) == magicNano:
		p.order, p.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[0:]) == magicMicro:
		p.order = binary.BigEndian
	case binary.BigEndian.Uint32(h[0:]) == magicNano:
		p.order, p.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("not a pcap file (magic %02x %02x %02x %02x)", h[0], h[1], h[2], h[3])
	}
	major, minor := p.order.Uint16(h[4:]), p.order.Uint16(h[6:])
	if major != 2 {
		return nil, fmt.Errorf("pcap version %d.%d is not supported (only 2.x)", major, minor)
	}
	p.snaplen = p.order.Uint32(h[16:])
	// The link-type field's upper bits hold FCS information (LINKTYPE_ field
	// is the low 16 bits).
	p.link = frame.LinkType(p.order.Uint32(h[20:]) & 0xFFFF)
	p.off = 24
	return p, nil
}

func (p *pcapReader) Next() (frame.Frame, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if err == io.EOF {
			return frame.Frame{}, io.EOF
		}
		return frame.Frame{}, fmt.Errorf("frame %d: record header cut short at byte %d", p.n+1, p.off)
	}
	sec := p.order.Uint32(p.hdr[0:])
	frac := p.order.Uint32(p.hdr[4:])
	capLen := p.order.Uint32(p.hdr[8:])
	origLen := p.order.Uint32(p.hdr[12:])
	if capLen > MaxFrame {
		return frame.Frame{}, fmt.Errorf("frame %d: record at byte %d claims %d captured bytes, more than the %d a pcap may hold (corrupt file)", p.n+1, p.off, capLen, MaxFrame)
	}
	if cap(p.buf) < int(capLen) {
		p.buf = make([]byte, capLen, max(int(capLen), 2048))
	}
	data := p.buf[:capLen]
	if _, err := io.ReadFull(p.r, data); err != nil {
		return frame.Frame{}, fmt.Errorf("frame %d: packet data cut short at byte %d (record says %d bytes)", p.n+1, p.off+16, capLen)
	}
	p.off += 16 + int64(capLen)
	p.n++
	ns := int64(frac)
	if !p.nano {
		ns *= 1000 // invalid values (≥ 1e6 µs) carry into the seconds, as tshark shows them
	}
	if origLen < capLen {
		origLen = capLen
	}
	return frame.Frame{Data: data, Meta: frame.Meta{
		Number:  p.n,
		Time:    time.Unix(int64(sec), ns).UTC(),
		CapLen:  int(capLen),
		OrigLen: int(origLen),
		Link:    p.link,
	}}, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
