// Package badfile builds the damaged and hostile capture files that
// tcpscope's readers and command line are tested against: truncated files,
// wrong magic, garbage, records claiming huge lengths, snaplen-truncated and
// zero-length records, timestamps going backwards, pcapng files with unknown
// or corrupt blocks. Each Case says what a correct reader must do with it.
//
// It lives outside the _test files so that the replay package's tests and
// the command's end-to-end tests share one table.
package badfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
)

// Case is one capture file and the behaviour expected of it.
type Case struct {
	Name string
	Data []byte
	// Frames is how many frames must be delivered before the fault (or in
	// all, when Err is empty).
	Frames int
	// Err is a substring of the error; "" means the file is readable to the
	// end. OpenErr is true when the error comes at Open (file header).
	Err     string
	OpenErr bool
	// Frame and Offset are the 1-based frame number and byte offset the
	// error must name ("frame N", "byte X"); 0 when the error is at Open
	// or names no record.
	Frame  int
	Offset int64
}

var le = binary.LittleEndian

// SYN returns an Ethernet/IPv4/TCP SYN of 54 bytes from port sport.
func SYN(sport uint16) []byte {
	p := make([]byte, 54)
	p[12], p[13] = 0x08, 0x00
	ip := p[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x45, 40, 64, 6
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], 1000)
	tcp[12], tcp[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	return p
}

// Data returns an Ethernet/IPv4/TCP ACK+PSH segment from port sport whose
// IP header says it carries payload bytes; only the headers are returned
// (54 bytes), as a 54-byte snaplen would capture it.
func Data(sport uint16, payload int) []byte {
	p := SYN(sport)
	binary.BigEndian.PutUint16(p[14+2:], uint16(40+payload))
	p[14+20+13] = 0x18
	return p
}

// PcapHeader is a little-endian microsecond pcap file header for Ethernet.
func PcapHeader() []byte {
	h := make([]byte, 24)
	le.PutUint32(h[0:], 0xA1B2C3D4)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], 262144)
	le.PutUint32(h[20:], 1)
	return h
}

// PcapRecord is one record: timestamp sec.usec, captured data, original
// length (at least len(data)).
func PcapRecord(sec, usec uint32, data []byte, orig uint32) []byte {
	r := make([]byte, 16, 16+len(data))
	le.PutUint32(r[0:], sec)
	le.PutUint32(r[4:], usec)
	le.PutUint32(r[8:], uint32(len(data)))
	le.PutUint32(r[12:], orig)
	return append(r, data...)
}

// Block is a little-endian pcapng block of type typ around body (padded).
func Block(typ uint32, body []byte) []byte {
	pad := (4 - len(body)%4) % 4
	total := uint32(12 + len(body) + pad)
	b := make([]byte, 8, total)
	le.PutUint32(b[0:], typ)
	le.PutUint32(b[4:], total)
	b = append(b, body...)
	b = append(b, make([]byte, pad)...)
	return le.AppendUint32(b, total)
}

// SHB is a section header block (version 1.0, unknown section length).
func SHB() []byte {
	body := make([]byte, 16)
	le.PutUint32(body[0:], 0x1A2B3C4D)
	le.PutUint16(body[4:], 1)
	le.PutUint64(body[8:], ^uint64(0))
	b := Block(0x0A0D0D0A, body)
	return b
}

// IDB is an Ethernet interface description block (µs timestamps).
func IDB() []byte {
	body := make([]byte, 8)
	le.PutUint16(body[0:], 1)
	le.PutUint32(body[4:], 262144)
	return Block(1, body)
}

// EPB is an enhanced packet block on interface iface at µs time ts.
func EPB(iface uint32, ts uint64, data []byte, orig uint32) []byte {
	body := make([]byte, 20, 20+len(data))
	le.PutUint32(body[0:], iface)
	le.PutUint32(body[4:], uint32(ts>>32))
	le.PutUint32(body[8:], uint32(ts))
	le.PutUint32(body[12:], uint32(len(data)))
	le.PutUint32(body[16:], orig)
	return Block(6, append(body, data...))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Cases returns the table. Byte offsets are computed from the pieces, so
// they stay right if a piece changes.
func Cases() []Case {
	hdr := PcapHeader()
	r1 := PcapRecord(1700000000, 0, SYN(1001), 54)
	r2 := PcapRecord(1700000000, 1000, SYN(1002), 54)
	r3 := PcapRecord(1700000000, 2000, SYN(1003), 54)
	good := cat(hdr, r1, r2, r3)
	o2 := int64(len(hdr) + len(r1)) // offset of record 2
	huge := func(n uint32) []byte {
		r := PcapRecord(1700000000, 0, nil, n)
		le.PutUint32(r[8:], n)
		return r
	}
	shb, idb := SHB(), IDB()
	e1, e2 := EPB(0, 1700000000e6, SYN(2001), 54), EPB(0, 1700000000e6+1000, SYN(2002), 54)
	ngo := int64(len(shb) + len(idb)) // offset of the first EPB
	badLen := append([]byte(nil), e2...)
	le.PutUint32(badLen[4:], 30) // not a multiple of 4
	badTrail := append([]byte(nil), e2...)
	le.PutUint32(badTrail[len(badTrail)-4:], 12345)
	claims15M := append([]byte(nil), e2[:8]...)
	le.PutUint32(claims15M[4:], 15<<20)
	over16M := append([]byte(nil), e2[:8]...)
	le.PutUint32(over16M[4:], 17<<20)
	noIface := EPB(3, 1700000000e6, SYN(2003), 54)
	capTooBig := append([]byte(nil), e2...)
	le.PutUint32(capTooBig[8+12:], 4000)
	badBOM := append([]byte(nil), shb...)
	le.PutUint32(badBOM[8:], 0xDEADBEEF)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good[:o2+int64(len(r2))+16+10])
	zw.Close()
	// Flush after two records so the compressed stream holds them whole;
	// the third is then cut inside its data.
	gzCut := gz.Bytes()
	return []Case{
		// pcap: the file header.
		{Name: "empty", Data: nil, Err: "empty file", OpenErr: true},
		{Name: "garbage", Data: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Err: "not a pcap or pcapng file", OpenErr: true},
		{Name: "wrong magic", Data: cat([]byte{0xd4, 0xc3, 0xb2, 0xa2}, hdr[4:], r1), Err: "not a pcap or pcapng file", OpenErr: true},
		{Name: "three bytes", Data: hdr[:3], Err: "too short to be a capture", OpenErr: true},
		{Name: "cut in file header", Data: hdr[:10], Err: "file header cut short", OpenErr: true},
		{Name: "pcap version 3", Data: cat(hdr[:4], []byte{3, 0}, hdr[6:], r1), Err: "pcap version 3.4 is not supported", OpenErr: true},
		// pcap: records.
		{Name: "cut in record header", Data: good[:o2+5], Frames: 1, Err: "record header cut short", Frame: 2, Offset: o2},
		{Name: "cut in packet data", Data: good[:o2+16+20], Frames: 1, Err: "packet data cut short", Frame: 2, Offset: o2 + 16},
		{Name: "record claims 2 GiB", Data: cat(hdr, r1, huge(0x7fffffff)), Frames: 1, Err: "claims 2147483647 captured bytes", Frame: 2, Offset: o2},
		{Name: "record claims 4 GiB", Data: cat(hdr, huge(0xffffffff)), Err: "claims 4294967295 captured bytes", Frame: 1, Offset: 24},
		{Name: "record one byte over the limit", Data: cat(hdr, r1, r2, huge(262145)), Frames: 2, Err: "more than the 262144", Frame: 3, Offset: o2 + int64(len(r2))},
		{Name: "garbage after records", Data: cat(hdr, r1, []byte("trailing garbage, not a record header at all")), Frames: 1, Err: "corrupt file", Frame: 2, Offset: o2},
		{Name: "zero-length record", Data: cat(hdr, r1, PcapRecord(1700000000, 500, nil, 0), r2), Frames: 3},
		{Name: "snaplen-truncated packet", Data: cat(hdr, PcapRecord(1700000000, 0, Data(1001, 1460), 1514), PcapRecord(1700000000, 100, SYN(1002)[:40], 1514)), Frames: 2},
		{Name: "timestamps backwards", Data: cat(hdr, r3, r1, r2), Frames: 3},
		{Name: "gzip cut in the last record", Data: gzCut, Frames: 2, Err: "packet data cut short", Frame: 3, Offset: o2 + int64(len(r2)) + 16},
		// pcapng.
		{Name: "pcapng unknown blocks", Data: cat(shb, idb, Block(0x4242, []byte("future block")), e1, Block(5, make([]byte, 16)), e2), Frames: 2},
		{Name: "pcapng cut in block header", Data: cat(shb, idb, e1, e2[:6]), Frames: 1, Err: "block header cut short", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng cut in block", Data: cat(shb, idb, e1, e2[:40]), Frames: 1, Err: "cut short", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng block length not a multiple of 4", Data: cat(shb, idb, e1, badLen), Frames: 1, Err: "bad length 30", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng trailing length differs", Data: cat(shb, idb, e1, badTrail, e1), Frames: 1, Err: "trailing length 12345", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng block claims 15 MiB", Data: cat(shb, idb, e1, claims15M), Frames: 1, Err: "claims 15728640 bytes", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng block claims 17 MiB", Data: cat(shb, idb, e1, over16M), Frames: 1, Err: "bad length 17825792", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng packet on missing interface", Data: cat(shb, idb, e1, noIface), Frames: 1, Err: "names interface 3", Frame: 2, Offset: ngo + int64(len(e1))},
		{Name: "pcapng captured length past block", Data: cat(shb, idb, capTooBig), Err: "claims 4000 bytes", Frame: 1, Offset: ngo},
		{Name: "pcapng bad byte-order magic", Data: badBOM, Err: "bad byte-order magic", OpenErr: true},
		{Name: "pcapng packet before any interface", Data: cat(shb, e1), Err: "names interface 0, but the section has 0", Frame: 1, Offset: int64(len(shb))},
	}
}
