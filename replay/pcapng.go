package replay

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/tcpscope/tcpscope/frame"
)

// pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
const (
	blockSHB       = 0x0A0D0D0A // Section Header: starts every section, gives byte order
	blockIDB       = 0x00000001 // Interface Description: link type, snaplen, timestamp units
	blockPB        = 0x00000002 // (obsolete) Packet Block
	blockSPB       = 0x00000003 // Simple Packet: no timestamp
	blockEPB       = 0x00000006 // Enhanced Packet
	blockJournal   = 0x00000009 // systemd journal export entry
	blockCustom    = 0x00000BAD // custom block, may be copied
	blockCustomNC  = 0x40000BAD // custom block, do not copy
	byteOrderMagic = 0x1A2B3C4D
	maxBlock       = 16 << 20 // 16 MiB: larger blocks mean a corrupt file
)

type ngIface struct {
	link    frame.LinkType
	snaplen uint32
	unit    int64 // timestamp unit in nanoseconds… or 0 when finer (see tsNanos)
	div     int64 // units per second, when unit is 0
	offset  int64 // if_tsoffset, seconds
}

// pcapngReader reads pcapng: several sections, each with its own byte order
// and its own interfaces, each interface with its own link type and
// timestamp resolution.
type pcapngReader struct {
	r      io.Reader
	order  binary.ByteOrder
	ifaces []ngIface
	hdr    [8]byte
	body   []byte
	n      int
	off    int64
}

func newPcapngReader(r io.Reader, head []byte) (*pcapngReader, error) {
	p := &pcapngReader{r: r, order: binary.LittleEndian}
	// The first block is a section header; head holds its first 4 bytes.
	if err := p.readBlock(head); err != nil {
		return nil, err
	}
	return p, nil
}

// readBlock reads one block (optionally with its first bytes already read)
// and handles it unless it is a packet, which it leaves in p.body with its
// type returned through p.hdr.
func (p *pcapngReader) readBlock(head []byte) error {
	copy(p.hdr[:], head)
	if _, err := io.ReadFull(p.r, p.hdr[len(head):]); err != nil {
		if err == io.EOF && len(head) == 0 {
			return io.EOF
		}
		return fmt.Errorf("block header cut short at byte %d", p.off)
	}
	typ := p.order.Uint32(p.hdr[0:])
	if binary.LittleEndian.Uint32(p.hdr[0:]) == blockSHB {
		typ = blockSHB
		// The byte order is only known after reading the byte-order magic.
		var bom [4]byte
		if _, err := io.ReadFull(p.r, bom[:]); err != nil {
			return fmt.Errorf("section header cut short at byte %d", p.off)
		}
		switch {
		case binary.LittleEndian.Uint32(bom[:]) == byteOrderMagic:
			p.order = binary.LittleEndian
		case binary.BigEndian.Uint32(bom[:]) == byteOrderMagic:
			p.order = binary.BigEndian
		default:
			return fmt.Errorf("section header at byte %d has a bad byte-order magic", p.off)
		}
		total := p.order.Uint32(p.hdr[4:])
		if total < 28 || total%4 != 0 || total > maxBlock {
			return fmt.Errorf("section header at byte %d has a bad length %d", p.off, total)
		}
		body := make([]byte, total-12)
		if _, err := io.ReadFull(p.r, body); err != nil {
			return fmt.Errorf("section header cut short at byte %d", p.off)
		}
		major, minor := p.order.Uint16(body[0:]), p.order.Uint16(body[2:])
		if major != 1 {
			return fmt.Errorf("pcapng section version %d.%d is not supported (only 1.x)", major, minor)
		}
		if err := p.checkOptions(body[12:len(body)-4], "section header"); err != nil {
			return err
		}
		p.ifaces = p.ifaces[:0]
		p.off += int64(total)
		return nil
	}
	total := p.order.Uint32(p.hdr[4:])
	if total < 12 || total%4 != 0 || total > maxBlock {
		return fmt.Errorf("block at byte %d has a bad length %d (corrupt file)", p.off, total)
	}
	if cap(p.body) < int(total-8) {
		p.body = make([]byte, total-8, max(int(total-8), 4096))
	}
	p.body = p.body[:total-8]
	if _, err := io.ReadFull(p.r, p.body); err != nil {
		return fmt.Errorf("block at byte %d cut short (it claims %d bytes)", p.off, total)
	}
	p.off += int64(total)
	if typ == blockIDB {
		return p.readIDB(p.body[:len(p.body)-4])
	}
	return nil
}

func (p *pcapngReader) checkOptions(opts []byte, where string) error {
	for len(opts) >= 4 {
		code, l := p.order.Uint16(opts), int(p.order.Uint16(opts[2:]))
		if code == 0 {
			return nil
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(opts) {
			return fmt.Errorf("%s option %d claims %d bytes, more than the block holds", where, code, l)
		}
		opts = opts[4+padded:]
	}
	return nil
}

func (p *pcapngReader) readIDB(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("interface block at byte %d too short", p.off)
	}
	ifc := ngIface{link: frame.LinkType(p.order.Uint16(b[0:])), snaplen: p.order.Uint32(b[4:]), unit: 1000}
	opts := b[8:]
	for len(opts) >= 4 {
		code, l := p.order.Uint16(opts), int(p.order.Uint16(opts[2:]))
		if code == 0 {
			break
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(opts) {
			return fmt.Errorf("interface block at byte %d: option %d runs past the block", p.off, code)
		}
		v := opts[4 : 4+l]
		switch {
		case code == 9 && l == 1: // if_tsresol
			r := v[0]
			var perSec int64 = 1
			if r&0x80 != 0 {
				e := int(r & 0x7F)
				if e > 62 {
					return fmt.Errorf("interface block at byte %d: timestamp resolution 2^-%d unsupported", p.off, e)
				}
				perSec = 1 << e
			} else {
				if r > 18 {
					return fmt.Errorf("interface block at byte %d: timestamp resolution 10^-%d unsupported", p.off, r)
				}
				for i := 0; i < int(r); i++ {
					perSec *= 10
				}
			}
			ifc.unit, ifc.div = 0, perSec
			if perSec <= 1e9 && 1e9%perSec == 0 {
				ifc.unit = 1e9 / perSec
			}
		case code == 14 && l == 8: // if_tsoffset, seconds
			ifc.offset = int64(p.order.Uint64(v))
		}
		opts = opts[4+padded:]
	}
	p.ifaces = append(p.ifaces, ifc)
	return nil
}

func (p *pcapngReader) time(ifc *ngIface, ts uint64) time.Time {
	if ifc.unit != 0 {
		t := int64(ts) * ifc.unit
		return time.Unix(ifc.offset+t/1e9, t%1e9).UTC()
	}
	sec := int64(ts) / ifc.div
	rem := int64(ts) % ifc.div
	return time.Unix(ifc.offset+sec, rem*1e9/ifc.div).UTC()
}

func (p *pcapngReader) Next() (frame.Frame, error) {
	for {
		start := p.off
		if err := p.readBlock(nil); err != nil {
			if err == io.EOF {
				return frame.Frame{}, io.EOF
			}
			return frame.Frame{}, fmt.Errorf("frame %d: %w", p.n+1, err)
		}
		typ := p.order.Uint32(p.hdr[0:])
		if binary.LittleEndian.Uint32(p.hdr[0:]) == blockSHB {
			continue
		}
		b := p.body[:len(p.body)-4] // without the trailing length
		var f frame.Frame
		switch typ {
		case blockEPB, blockPB:
			if len(b) < 20 {
				return frame.Frame{}, fmt.Errorf("frame %d: packet block at byte %d too short", p.n+1, start)
			}
			var id int
			if typ == blockEPB {
				id = int(p.order.Uint32(b[0:]))
			} else {
				id = int(p.order.Uint16(b[0:]))
			}
			if id >= len(p.ifaces) {
				return frame.Frame{}, fmt.Errorf("frame %d: packet at byte %d names interface %d, but the section has %d", p.n+1, start, id, len(p.ifaces))
			}
			ifc := &p.ifaces[id]
			ts := uint64(p.order.Uint32(b[4:]))<<32 | uint64(p.order.Uint32(b[8:]))
			capLen, origLen := p.order.Uint32(b[12:]), p.order.Uint32(b[16:])
			if int(capLen) > len(b)-20 {
				return frame.Frame{}, fmt.Errorf("frame %d: packet at byte %d claims %d bytes, the block holds %d", p.n+1, start, capLen, len(b)-20)
			}
			f.Data = b[20 : 20+capLen]
			f.Meta = frame.Meta{Time: p.time(ifc, ts), CapLen: int(capLen), OrigLen: int(origLen), Link: ifc.link}
		case blockSPB:
			if len(b) < 4 || len(p.ifaces) == 0 {
				return frame.Frame{}, fmt.Errorf("frame %d: simple packet block at byte %d without an interface", p.n+1, start)
			}
			origLen := p.order.Uint32(b[0:])
			capLen := min(int(origLen), len(b)-4)
			if s := p.ifaces[0].snaplen; s != 0 && capLen > int(s) {
				capLen = int(s)
			}
			f.Data = b[4 : 4+capLen]
			f.Meta = frame.Meta{CapLen: capLen, OrigLen: int(origLen), Link: p.ifaces[0].link}
		case blockCustom, blockCustomNC, blockJournal:
			// Wireshark numbers these as frames too; so do we, so that
			// frame numbers match. They carry no packet (LinkNone).
			f.Data = b
			f.Meta = frame.Meta{CapLen: len(b), OrigLen: len(b), Link: frame.LinkNone}
		default:
			continue // name resolution, statistics…
		}
		p.n++
		f.Meta.Number = p.n
		if f.Meta.OrigLen < f.Meta.CapLen {
			f.Meta.OrigLen = f.Meta.CapLen
		}
		return f, nil
	}
}
