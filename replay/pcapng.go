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
	last   int64 // file offset of the block Next returned last
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
	start := p.off
	copy(p.hdr[:], head)
	if _, err := io.ReadFull(p.r, p.hdr[len(head):]); err != nil {
		if err == io.EOF && len(head) == 0 {
			return io.EOF
		}
		return readErr(err, "block header", start, "")
	}
	typ := p.order.Uint32(p.hdr[0:])
	if binary.LittleEndian.Uint32(p.hdr[0:]) == blockSHB {
		typ = blockSHB
		// The byte order is only known after reading the byte-order magic.
		var bom [4]byte
		if _, err := io.ReadFull(p.r, bom[:]); err != nil {
			return readErr(err, "section header", p.off, "")
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
		body, err := readN(p.r, nil, int(total-12))
		if err != nil {
			return readErr(err, "section header", start, fmt.Sprintf(" (it claims %d bytes)", total))
		}
		if err := p.checkTrailer(body, total, start); err != nil {
			return err
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
	var err error
	if p.body, err = readN(p.r, p.body, int(total-8)); err != nil {
		return readErr(err, "block", start, fmt.Sprintf(" (it claims %d bytes)", total))
	}
	if err := p.checkTrailer(p.body, total, start); err != nil {
		return err
	}
	p.off += int64(total)
	if typ == blockIDB {
		return p.readIDB(p.body[:len(p.body)-4], start)
	}
	return nil
}

// checkTrailer compares a block's trailing length with its leading one.
// They differ when the file is corrupt (a wrong length, bytes lost or
// inserted): reading on would misparse everything after, so it is an error
// at this block rather than garbage later.
func (p *pcapngReader) checkTrailer(body []byte, total uint32, start int64) error {
	if trail := p.order.Uint32(body[len(body)-4:]); trail != total {
		return fmt.Errorf("block at byte %d: trailing length %d differs from its leading length %d (corrupt file)", start, trail, total)
	}
	return nil
}

// readN reads exactly n bytes into buf (reusing its storage when it is big
// enough). Storage grows with what was actually read, 1 MiB at a time, so
// a block that claims 16 MiB in a file of a few hundred bytes costs a few
// hundred bytes, not 16 MiB: the length field is not trusted for
// allocation until the bytes are there.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
	if cap(buf) >= n {
		buf = buf[:n]
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	const step = 1 << 20
	buf = buf[:0]
	for len(buf) < n {
		k := min(step, n-len(buf))
		if cap(buf)-len(buf) < k {
			nb := make([]byte, len(buf), max(len(buf)+k, 4096))
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
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

func (p *pcapngReader) readIDB(b []byte, start int64) error {
	if len(b) < 8 {
		return fmt.Errorf("interface block at byte %d too short", start)
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
			return fmt.Errorf("interface block at byte %d: option %d runs past the block", start, code)
		}
		v := opts[4 : 4+l]
		switch {
		case code == 9 && l == 1: // if_tsresol
			r := v[0]
			var perSec int64 = 1
			if r&0x80 != 0 {
				e := int(r & 0x7F)
				if e > 62 {
					return fmt.Errorf("interface block at byte %d: timestamp resolution 2^-%d unsupported", start, e)
				}
				perSec = 1 << e
			} else {
				if r > 18 {
					return fmt.Errorf("interface block at byte %d: timestamp resolution 10^-%d unsupported", start, r)
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
		p.last = start
		f.Meta.Number = p.n
		if f.Meta.OrigLen < f.Meta.CapLen {
			f.Meta.OrigLen = f.Meta.CapLen
		}
		return f, nil
	}
}
