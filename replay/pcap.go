package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/inetsum"
	"github.com/tcpscope/tcpscope/internal/prefetch"
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
	r        io.Reader
	br       peeker     // r, when it is buffered: records are returned in place
	m        *mapping   // r, when it is a mapped file: records are copied out under guard
	head     int        // NextAppendHead's n while it runs, else 0
	tail     frame.Tail // the last record's, when NextAppendHead left bytes
	late     *mapping   // a second window over the file, for ReadTail
	lateMu   sync.Mutex // late's: ReadTail and SumTail may come from two goroutines
	view     *mapping   // a third window, for ViewFrame, whose use may take long (it writes)
	viewMu   sync.Mutex // view's
	lastLen  int        // the last record's captured length
	order    binary.ByteOrder
	big      bool // order is big-endian (for nextHead, which calls no interface)
	nano     bool
	link     frame.LinkType
	snaplen  uint32
	hdr      [16]byte
	buf      []byte
	n        int   // frames read
	off      int64 // file offset of the next record
	last     int64 // file offset of the record Next returned last
	ahead    int64 // lookAhead's cursor: the file offset of a record after off
	aheadAt  int   // its number, counted as n counts (0 for the first)
	aheadOff bool  // the cursor faulted (the file shrank) and stopped
	inAhead  bool  // lookAhead is reading: a fault now is the cursor's
}

func newPcapReader(r io.Reader, head []byte) (*pcapReader, error) {
	p := &pcapReader{r: r}
	p.br, _ = r.(peeker)
	p.m, _ = r.(*mapping)
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
		p.order, p.big = binary.BigEndian, true
	case binary.BigEndian.Uint32(h[0:]) == magicNano:
		p.order, p.big, p.nano = binary.BigEndian, true, true
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

// Next returns the next record. From a buffered reader a record that fits
// the buffer is returned in place (Peek, then Discard), without copying it;
// its bytes stay valid until the next call, as frame.Source promises. From
// a mapped file it is copied into the reader's own buffer (mapped memory
// never leaves the package: see mapping).
func (p *pcapReader) Next() (f frame.Frame, err error) {
	if p.m != nil {
		defer guard(debug.SetPanicOnFault(true), p.off, &err)
	}
	return p.next(nil)
}

// NextAppend implements frame.Appender: the record's bytes are appended to
// buf, with one copy from wherever they are (the mapping, the buffer).
func (p *pcapReader) NextAppend(buf []byte) (f frame.Frame, _ []byte, err error) {
	if p.m != nil {
		defer guard(debug.SetPanicOnFault(true), p.off, &err)
	}
	f, err = p.next(&buf)
	return f, buf, err
}

// NextAppendHead implements frame.HeadAppender. From a mapped file only
// the first n bytes of the record are copied; from any other source, all.
func (p *pcapReader) NextAppendHead(buf []byte, n int) (f frame.Frame, _ []byte, err error) {
	if p.m == nil {
		return p.NextAppend(buf)
	}
	defer guard(debug.SetPanicOnFault(true), p.off, &err)
	p.head = n
	f, err = p.next(&buf)
	p.head = 0
	return f, buf, err
}

// NextHeads implements frame.HeadBatcher: NextAppendHead's loop under one
// fault guard. From a file that is not mapped, each frame is copied whole.
func (p *pcapReader) NextHeads(buf []byte, n int, sum bool, out []frame.Frame) (k int, rest []byte, err error) {
	if p.m == nil {
		for k = range out {
			if k > 0 && !p.fits(buf) {
				return k, buf, nil
			}
			if out[k], buf, err = p.NextAppend(buf); err != nil {
				return k, buf, err
			}
		}
		return len(out), buf, nil
	}
	old := debug.SetPanicOnFault(true)
	p.m.populate = sum
	p.head = n
	defer func() {
		p.head = 0
		debug.SetPanicOnFault(old)
		r := recover()
		if r != nil && p.inAhead && isFault(r) {
			// The look-ahead faulted, after record k was read whole:
			// the batch ends with it, and the cursor stops (lookAhead).
			p.inAhead, p.aheadOff = false, true
			k, rest, err = k+1, buf, nil
			return
		}
		faultErr(r, p.off, &err)
	}()
	for k = range out {
		if ok, full := p.nextHead(&out[k], &buf, n, k > 0, sum); full {
			return k, buf, nil
		} else if !ok {
			if k > 0 && !p.fits(buf) {
				return k, buf, nil
			}
			if out[k], err = p.next(&buf); err != nil {
				return k, buf, err
			}
		}
		if t := &out[k].Tail; sum && t.Off > 0 && !t.Summed {
			// Read by next: the record is in the window, next just
			// slid it there.
			b, ok := p.m.at(t.At, p.lastLen-t.Off)
			if !ok {
				return k, buf, fmt.Errorf("frame %d: record at byte %d is no longer mapped", p.n, p.last)
			}
			t.Summed, t.Sum = true, inetsum.Fold(inetsum.Add(b, 0))
		}
	}
	return len(out), buf, nil
}

// nextHead is next for the usual record of NextHeads: its header and bytes
// lie whole in the mapping's window. It writes the frame into *f in place
// and copies the first n bytes of the record onto *buf, exactly as next
// does, but reads the window directly, with the byte order known at
// compile time: next goes through two interfaces (the peeker and the
// binary.ByteOrder), nine indirect calls a record, on the goroutine that
// paces replay. full: the record does not fit buf's capacity (checked only
// when check is set) and the batch is done. ok false, full false: nothing
// was read, and next must do it (the window must slide, the file ends, the
// record is damaged). With sum, the bytes past the first n are added up
// (Tail.Summed and Sum), as NextHeads's sum asks.
func (p *pcapReader) nextHead(f *frame.Frame, buf *[]byte, n int, check, sum bool) (ok, full bool) {
	m := p.m
	w := m.rest()
	if len(w) < 16 {
		return false, false
	}
	h := w[:16]
	var sec, frac, capLen, origLen uint32
	if p.big {
		sec, frac = binary.BigEndian.Uint32(h[0:]), binary.BigEndian.Uint32(h[4:])
		capLen, origLen = binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	} else {
		sec, frac = binary.LittleEndian.Uint32(h[0:]), binary.LittleEndian.Uint32(h[4:])
		capLen, origLen = binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:])
	}
	if check && int64(capLen) > int64(cap(*buf)-len(*buf)) {
		return false, true
	}
	if capLen > MaxFrame || 16+int64(capLen) > int64(len(w)) || int(capLen) > m.Size() {
		return false, false
	}
	c := int(capLen)
	k := c
	p.tail = frame.Tail{}
	if n > 0 && n < c {
		k = n
		p.tail.Off, p.tail.At = k, p.off+16+int64(k)
	}
	data := grow(buf, c)
	if sum && k < c {
		// As many bytes as this record's, sumAhead further on, asked for
		// now: they are in the cache when their turn comes (see sumAhead).
		prefetch.Bytes(w[min(len(w), 16+c+sumAhead):min(len(w), 16+c+sumAhead+c)])
		// Summed before the head is copied, not after: NextHeads with
		// sum over bench/bulk.pcap took 0.34 s this way, 0.39 s the
		// other (replay --json 3 % less CPU). Measured, not explained:
		// the copy's stores seem to hold up the loads of the sum that
		// follows them.
		p.tail.Summed, p.tail.Sum = true, inetsum.Fold(inetsum.Add(w[16+k:16+c], 0))
	}
	copy(data, w[16:16+k])
	m.pos += 16 + int64(capLen)
	p.last, p.lastLen = p.off, c
	p.off += 16 + int64(capLen)
	p.n++
	ns := int64(frac)
	if !p.nano {
		ns = int64(int32(frac * 1000)) // as next does: see there
	}
	if origLen < capLen {
		origLen = capLen
	}
	*f = frame.Frame{Data: data, Meta: frame.Meta{
		Number:  p.n,
		Time:    time.Unix(int64(sec), ns).UTC(),
		CapLen:  c,
		OrigLen: int(origLen),
		Link:    p.link,
	}, Tail: p.tail}
	if !sum && !p.aheadOff {
		// Once the record is read whole: a fault in the look-ahead then
		// ends the batch after it (see NextHeads).
		p.inAhead = true
		p.lookAhead(w[16+c:], k)
		p.inAhead = false
	}
	return true, false
}

// lookAheadRecords is how many records ahead of the next one to read
// lookAhead keeps its cursor.
const lookAheadRecords = 8

// lookAhead, for a reader of heads, moves a cursor along the records ahead
// of the one being read (w is the window from that one's header) and asks
// for the header and first n bytes of each record it reaches, so that they
// are in the cache when their turn comes.
//
// Why: each record's header says where the next one starts, so reading
// heads is a chain of loads from the page cache, each waiting for the one
// before it, and the hardware prefetcher, which follows a run of lines
// within a 4 KiB page, starts again at every page (a page of bulk.pcap
// holds two or three records). The cursor walks the same chain
// lookAheadRecords records early, a step per record read, and its loads
// overlap with the work on the records between. Measured (medians of 11
// alternating runs, the file cached whole): replay and stats of
// bench/bulk.pcap 1-2 % less CPU and wall time; big.pcap, whose records are
// smaller, less. A prefetch of the next record alone, or of every line a
// few pages ahead, gained nothing.
//
// A file that shrank under the mapping faults where it no longer reaches:
// the cursor stops (aheadOff), and the reader proper says so when it gets
// there, at the right frame, not some records early. The fault is caught
// by NextHeads, once per batch (inAhead tells it apart): a recover here,
// deferred for every record, was a third of this function's cost.
func (p *pcapReader) lookAhead(w []byte, n int) {
	if p.ahead <= p.off {
		p.ahead, p.aheadAt = p.off, p.n // the next record
	}
	// Two steps a record until the cursor is far enough ahead, then one.
	for steps := 0; p.aheadAt-p.n < lookAheadRecords && steps < 2; steps++ {
		at := p.ahead - p.off
		if at+16 > int64(len(w)) {
			break // past the window: it waits there for the reader
		}
		var c uint32
		if p.big {
			c = binary.BigEndian.Uint32(w[at+8:])
		} else {
			c = binary.LittleEndian.Uint32(w[at+8:])
		}
		if c > MaxFrame {
			p.ahead = 0 // a damaged record: the reader will say so
			break
		}
		p.ahead += 16 + int64(c)
		p.aheadAt++
		if nx := p.ahead - p.off; nx < int64(len(w)) {
			prefetch.Bytes(w[nx:min(int64(len(w)), nx+16+int64(n))])
		}
	}
}

// fits reports whether the next record's bytes fit in buf's capacity, by
// its header (true when it cannot be read: next then says why).
func (p *pcapReader) fits(buf []byte) bool {
	if p.br == nil {
		return true
	}
	h, _ := p.br.Peek(len(p.hdr))
	return len(h) < len(p.hdr) || int64(p.order.Uint32(h[8:])) <= int64(cap(buf)-len(buf))
}

// SumLast implements frame.HeadSummer: the bytes NextAppendHead left of
// the last record are added up where they are, in the mapping's window.
func (p *pcapReader) SumLast() (_ uint16, err error) {
	if p.m == nil || p.tail.Off == 0 {
		return 0, nil
	}
	defer guard(debug.SetPanicOnFault(true), p.last, &err)
	b, ok := p.m.at(p.last+16+int64(p.tail.Off), p.lastLen-p.tail.Off)
	if !ok {
		return 0, fmt.Errorf("frame %d: record at byte %d is no longer mapped", p.n, p.last)
	}
	return inetsum.Fold(inetsum.Add(b, 0)), nil
}

// ReadTail implements frame.TailReader: the bytes come from a window of
// their own (p.late), so that the reading goroutine's window is left alone.
func (p *pcapReader) ReadTail(f frame.Frame) error {
	if f.Tail.Off == 0 {
		return nil
	}
	return p.withTail(f, func(b []byte) { copy(f.Data[f.Tail.Off:], b) })
}

// SumTail implements frame.TailReader, from the same window as ReadTail.
func (p *pcapReader) SumTail(f frame.Frame) (sum uint16, err error) {
	if f.Tail.Off == 0 {
		return 0, nil
	}
	err = p.withTail(f, func(b []byte) { sum = inetsum.Fold(inetsum.Add(b, 0)) })
	return sum, err
}

// ViewFrame implements frame.TailViewer, from a window of its own
// (p.view): use may hold it while it writes to a slow pipe, and the
// analysing goroutine's ReadTail and SumTail (p.late) need not wait.
func (p *pcapReader) ViewFrame(f frame.Frame, off, n int, use func([]byte)) error {
	if err := inFrame(f, off, n); err != nil {
		return err
	}
	if f.Tail.Off == 0 || off+n <= f.Tail.Off {
		use(f.Data[off : off+n])
		return nil
	}
	return p.withBytes(&p.viewMu, &p.view, f, f.Tail.At-int64(f.Tail.Off-off), n, use)
}

// inFrame checks that ViewFrame's range, off to off+n, lies in f.
func inFrame(f frame.Frame, off, n int) error {
	if off < 0 || n < 0 || off+n > len(f.Data) {
		return fmt.Errorf("frame %d: bytes %d to %d of a %d-byte frame asked for", f.Meta.Number, off, off+n, len(f.Data))
	}
	return nil
}

// withTail gives use the bytes of f past its head, from the second window.
func (p *pcapReader) withTail(f frame.Frame, use func([]byte)) error {
	return p.withBytes(&p.lateMu, &p.late, f, f.Tail.At, len(f.Data)-f.Tail.Off, use)
}

// withBytes gives use the n bytes of f at file offset at, from the window
// *m (under mu), and turns a fault while use reads them (the file cut
// short) into an error naming the frame.
func (p *pcapReader) withBytes(mu *sync.Mutex, m **mapping, f frame.Frame, at int64, n int, use func([]byte)) error {
	err := func() (err error) {
		mu.Lock()
		defer mu.Unlock()
		if *m == nil {
			return errors.New("can no longer be read")
		}
		defer guard(debug.SetPanicOnFault(true), at, &err)
		b, err := (*m).region(at, n)
		if err == nil {
			use(b)
		}
		return err
	}()
	if err != nil {
		return fmt.Errorf("frame %d: payload: %w", f.Meta.Number, err)
	}
	return nil
}

// FillLast implements frame.HeadAppender: the record NextAppendHead read
// last is copied whole into data, from the mapping's window, which still
// holds it.
func (p *pcapReader) FillLast(data []byte) (err error) {
	if p.m == nil {
		return nil
	}
	defer guard(debug.SetPanicOnFault(true), p.last, &err)
	b, ok := p.m.at(p.last+16, len(data))
	if !ok {
		return fmt.Errorf("frame %d: record at byte %d is no longer mapped", p.n, p.last)
	}
	copy(data, b)
	return nil
}

// next reads a record; its bytes are appended to *dst when dst is not nil
// (only the first p.head of them, when p.head > 0; see NextAppendHead).
func (p *pcapReader) next(dst *[]byte) (frame.Frame, error) {
	if err := p.readHeader(); err != nil {
		if err == io.EOF {
			return frame.Frame{}, io.EOF
		}
		return frame.Frame{}, readErr(err, fmt.Sprintf("frame %d: record header", p.n+1), p.off, "")
	}
	sec := p.order.Uint32(p.hdr[0:])
	frac := p.order.Uint32(p.hdr[4:])
	capLen := p.order.Uint32(p.hdr[8:])
	origLen := p.order.Uint32(p.hdr[12:])
	if capLen > MaxFrame {
		return frame.Frame{}, fmt.Errorf("frame %d: record at byte %d claims %d captured bytes, more than the %d a pcap may hold (corrupt file)", p.n+1, p.off, capLen, MaxFrame)
	}
	p.tail = frame.Tail{}
	data, err := p.readData(int(capLen), dst)
	if err != nil {
		return frame.Frame{}, readErr(err, fmt.Sprintf("frame %d: packet data", p.n+1), p.off+16, fmt.Sprintf(" (record says %d bytes)", capLen))
	}
	p.last, p.lastLen = p.off, int(capLen)
	p.off += 16 + int64(capLen)
	p.n++
	ns := int64(frac)
	if !p.nano {
		// Microseconds to nanoseconds as Wireshark's wiretap does it: a
		// 32-bit unsigned product stored in a 32-bit signed int. Valid
		// values (< 1e6) are unaffected; an invalid 1 000 000 becomes a
		// whole second (carried into the seconds), and 2^31 wraps to 0, so
		// RTTs between such frames come out as tshark computes them.
		ns = int64(int32(frac * 1000))
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
	}, Tail: p.tail}, nil
}

// readHeader reads the 16-byte record header into p.hdr: io.EOF at a clean
// end of file, another error if it is cut short.
func (p *pcapReader) readHeader() error {
	if p.br == nil {
		_, err := io.ReadFull(p.r, p.hdr[:])
		return err
	}
	h, err := p.br.Peek(len(p.hdr))
	if len(h) < len(p.hdr) {
		if len(h) == 0 && err == io.EOF {
			return io.EOF
		}
		return unexpected(err)
	}
	copy(p.hdr[:], h)
	_, err = p.br.Discard(len(p.hdr))
	return err
}

// readData reads n bytes of packet data: appended to *dst when dst is not
// nil; else in place in the buffered reader when they fit it (copied into
// p.buf from a mapping), else into p.buf.
func (p *pcapReader) readData(n int, dst *[]byte) ([]byte, error) {
	if p.br != nil && n <= p.br.Size() {
		d, err := p.br.Peek(n)
		if err != nil {
			return nil, err
		}
		switch {
		case dst != nil:
			k := n
			if p.head > 0 {
				k = min(n, p.head) // the rest is left as it was: see NextAppendHead
			}
			if k < n {
				p.tail.Off, p.tail.At = k, p.off+16+int64(k)
			}
			out := grow(dst, n)
			copy(out, d[:k])
			d = out
		case p.m != nil:
			p.buf = append(p.buf[:0], d...)
			d = p.buf
		}
		_, err = p.br.Discard(n)
		return d, err
	}
	var data []byte
	if dst != nil {
		data = grow(dst, n)
	} else {
		if cap(p.buf) < n {
			p.buf = make([]byte, n, max(n, 2048))
		}
		data = p.buf[:n]
	}
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, err
	}
	return data, nil
}

// grow extends *dst by n bytes and returns them (their old contents, if
// the array had room, left as they were).
func grow(dst *[]byte, n int) []byte {
	at := len(*dst)
	*dst = slices.Grow(*dst, n)[:at+n]
	return (*dst)[at : at+n : at+n]
}

func unexpected(err error) error {
	if err == io.EOF || err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readErr describes a read of what (at byte off) that failed: "cut short"
// when the file simply ended, else the read's own error, which says more
// (a gzip stream whose CRC is bad, an I/O error) than "cut short" would.
func readErr(err error, what string, off int64, more string) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s cut short at byte %d%s", what, off, more)
	}
	return fmt.Errorf("%s at byte %d: %w", what, off, err)
}

// peeker is what a reader needs to return records without copying them:
// a *bufio.Reader, or a mapping of the file.
type peeker interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Size() int
}

// sumAhead is how far ahead of the record it sums nextHead prefetches: four
// pages, which at memory's latency here (~100 ns) and one core's pace over
// mapped page cache (~8 GB/s) is about twice what is needed. Together with
// mapping each window whole (MAP_POPULATE, mapping.populate), replay --json
// went 5 % below its CPU time without either on both bench captures
// (bulk.pcap 1.29 -> 1.23 s, big.pcap 1.05 -> 1.00; medians of 9
// alternating runs); 8 and 64 KiB ahead did as well as 16 in a walk of the
// file alone. Without a sum (the text lines, stats) only each record's
// head is read, and neither helps: that was measured before this, and
// gained nothing.
const sumAhead = 16 << 10
