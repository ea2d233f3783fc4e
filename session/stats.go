package session

import (
	"fmt"
	"iter"
	"net/netip"
	"os"
	"slices"
	"time"
	"unsafe"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
)

// Conn sums up one connection: who talked to whom, how much, how well, and
// how it ended. Index 0 of the per-side arrays is the client.
type Conn struct {
	Stream int
	// Client and Server: the SYN's sender is the client. Without a SYN or
	// SYN-ACK in the capture the end with the higher port is taken for the
	// client (analysis.GuessClient, as in the replay summary) and
	// ClientGuessed is set (a teaching table should not pretend to know).
	Client, Server netip.AddrPort
	ClientGuessed  bool
	First, Last    time.Time

	Packets [2]int // segments sent by client, server
	Bytes   [2]int // frame bytes on the wire (what tshark's conversation table counts)
	Payload [2]int // TCP payload bytes as sent (retransmissions counted again)

	HandshakeRTT    time.Duration // Wireshark's initial RTT: the latest SYN to the handshake's third packet
	HasHandshakeRTT bool
	// Handshake: from the first SYN to the handshake's third packet, SYN
	// retransmissions included; SYNs counts them (analysis.Lifecycle).
	Handshake    time.Duration
	HasHandshake bool
	SYNs         int

	Retransmissions int // every kind: timeout, fast, spurious
	DupAcks         int
	ZeroWindows     int

	life       analysis.Lifecycle // side 0 is the client
	clientSure bool
}

// Ending says how the connection finished, as far as the capture shows, in
// the words of the replay summary ("closed by both (FIN)", "reset by
// server", …): both come from analysis.Lifecycle.
func (c *Conn) Ending() string { return c.life.Ending().String() }

// Duration is the time from the connection's first to its last segment.
func (c *Conn) Duration() time.Duration { return c.Last.Sub(c.First) }

// Table sums up every connection of a capture, one Conn per tcp.stream.
// Feed it every pipeline item in capture order, and Close it when done.
//
// A long capture has hundreds of thousands of connections and the table
// keeps one row for each until the end, so rows are small (about 180
// bytes, no pointers) and live in chunks of consecutive streams. At most
// MaxChunks chunks stay in memory; the least recently used one is written
// to an unlinked temporary file and read back when a late segment or the
// final listing needs it. Memory therefore stays bounded whatever the
// number of connections (new streams fill the newest chunk, so a capture
// read in order rarely goes back to disk). If the file cannot be written,
// the table simply keeps everything in memory.
type Table struct {
	// MaxChunks is how many chunks stay in memory; 0 means 16 (16 384
	// connections, about 2 MB). ChunkRows is the number of streams per
	// chunk; 0 means 1024. Both are for tests; set them before Add.
	MaxChunks, ChunkRows int

	chunks   []*chunk // by stream/ChunkRows; nil: on disk, or not yet used
	onDisk   []bool   // chunk i was written to file
	resident int      // chunks in memory
	tick     uint64   // use counter for least-recently-used eviction
	file     *os.File // spill file (unlinked); nil until the first spill
	noSpill  bool     // the spill file failed: keep everything in memory
	err      error    // a spilled chunk could not be read back
	n        int      // rows allocated (highest stream + 1)
	// last is the chunk rowSlow found last, holding the streams from
	// lastBase on (chunks are spilled only in rowSlow, which then sets it).
	last     *chunk
	lastBase int
	count    int // rows in use
}

// chunk is ChunkRows consecutive rows.
type chunk struct {
	rows []row
	used uint64 // tick of the last use
}

// row is one connection's counters, as compact as the table needs: side 0
// is the client.
type row struct {
	Addr    [2][16]byte // client, server address (IPv4 as IPv4-mapped IPv6)
	Port    [2]uint16
	Bits    uint8 // rowUsed, rowV4, ...
	First   int64 // UnixNano
	Last    int64
	Packets [2]uint32
	Bytes   [2]uint64
	Payload [2]uint64
	RTT     int64
	Retrans uint32
	DupAcks uint32
	ZeroWin uint32
	Life    analysis.Lifecycle // how it began and ended; side 0 is the client
}

const (
	rowUsed    = 1 << iota // a connection has this stream number
	rowV4                  // the addresses are IPv4
	rowGuessed             // no SYN or SYN-ACK yet: the client is guessed (analysis.GuessClient)
	rowSure                // the client was decided by a SYN or SYN-ACK
	rowHasRTT              // the handshake RTT is known
)

func (r *row) end(i int) netip.AddrPort {
	a := netip.AddrFrom16(r.Addr[i])
	if r.Bits&rowV4 != 0 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, r.Port[i])
}

// is reports whether end i is ap: end(i) == ap, without building end(i).
// (A stream's two ends are of one address family, so comparing the
// 16-byte forms cannot take one for the other.)
func (r *row) is(i int, ap netip.AddrPort) bool {
	return r.Port[i] == ap.Port() && r.Addr[i] == ap.Addr().As16()
}

// row returns the row for stream i, growing the table as needed. The
// pointer is valid until the next call.
//
// A stream in the chunk of the row before is found without the division
// and the checks of rowSlow: with fewer than ChunkRows streams, or a few
// long ones, that is nearly every segment (stats of make bench's
// bulk.pcap: 40 instructions a segment down to 13).
func (t *Table) row(i int) *row {
	if c := t.last; c != nil {
		if ri := i - t.lastBase; uint(ri) < uint(len(c.rows)) {
			t.n = max(t.n, i+1)
			t.tick++
			c.used = t.tick
			return &c.rows[ri]
		}
	}
	return t.rowSlow(i)
}

// rowSlow is row for a stream in another chunk than the last.
func (t *Table) rowSlow(i int) *row {
	if t.ChunkRows <= 0 {
		t.ChunkRows = 1024
	}
	if t.MaxChunks <= 0 {
		t.MaxChunks = 16
	}
	t.n = max(t.n, i+1)
	// One division, not two (a division is tens of cycles, on every
	// segment): the row's index in its chunk follows from the chunk's.
	ci := i / t.ChunkRows
	ri := i - ci*t.ChunkRows
	for len(t.chunks) <= ci {
		t.chunks = append(t.chunks, nil)
		t.onDisk = append(t.onDisk, false)
	}
	c := t.chunks[ci]
	if c == nil {
		c = t.load(ci)
	}
	t.tick++
	c.used = t.tick
	t.last, t.lastBase = c, ci*t.ChunkRows
	return &c.rows[ri]
}

// load brings chunk ci into memory (from the file, or new and empty),
// first writing the least recently used chunk out if memory is full.
func (t *Table) load(ci int) *chunk {
	var c *chunk
	if t.resident >= t.MaxChunks && !t.noSpill {
		c = t.spillOne() // when it was t.last, rowSlow makes it last again, for ci
	}
	if c == nil {
		c = &chunk{rows: make([]row, t.ChunkRows)}
		t.resident++
	}
	// A reused chunk's old rows go; a new chunk is written before Add reads
	// a row's bits: a page of fresh memory read first is mapped to the
	// kernel's zero page, and the write after it costs a copy and a
	// TLB-flush interrupt to the other core (see pipeline's batches).
	clear(c.rows)
	if t.onDisk[ci] {
		if err := t.readChunk(ci, c); err != nil && t.err == nil {
			t.err = fmt.Errorf("stats: reading back connection rows from the temporary file: %v", err)
		}
	}
	t.chunks[ci] = c
	return c
}

// spillOne writes the least recently used chunk to the file and returns it
// for reuse; nil if it could not be written (then nothing is spilled again).
func (t *Table) spillOne() *chunk {
	lru := -1
	for i, c := range t.chunks {
		if c != nil && (lru < 0 || c.used < t.chunks[lru].used) {
			lru = i
		}
	}
	if lru < 0 {
		return nil
	}
	if t.file == nil {
		f, err := os.CreateTemp("", "tcpscope-stats-*")
		if err != nil {
			t.noSpill = true
			return nil
		}
		os.Remove(f.Name()) // gone from the directory; the space is freed at Close or exit
		t.file = f
	}
	c := t.chunks[lru]
	b := rowBytes(c.rows)
	if _, err := t.file.WriteAt(b, int64(lru)*int64(len(b))); err != nil {
		t.noSpill = true
		return nil
	}
	t.chunks[lru] = nil
	t.onDisk[lru] = true
	return c
}

// readChunk reads chunk ci back from the file into c.
func (t *Table) readChunk(ci int, c *chunk) error {
	b := rowBytes(c.rows)
	_, err := t.file.ReadAt(b, int64(ci)*int64(len(b)))
	return err
}

// rowBytes is the memory of rows as bytes, written to the spill file and
// read back as it is. Why not encoding/binary, which did this before: it
// walks every field of every row by reflection, a tenth of stats' time on
// a capture of 20 000 connections. Why it is safe: a row holds no pointers
// (TestRowHasNoPointers), and the file is this process's own, unlinked, so
// its layout is never read by another build or machine.
func rowBytes(rows []row) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(rows))), len(rows)*int(unsafe.Sizeof(row{})))
}

// Err reports a failure to read spilled rows back (the listing is then
// incomplete). It is nil in practice: the file is private to the process.
func (t *Table) Err() error { return t.err }

// Close frees the spill file, if any.
func (t *Table) Close() error {
	if t.file == nil {
		return nil
	}
	err := t.file.Close()
	t.file = nil
	return err
}

// Add counts one frame; frames without an analyzed TCP segment are ignored.
func (t *Table) Add(it *pipeline.Item) {
	if !it.Analyzed {
		return
	}
	r := &it.Result
	p := &it.Packet
	src, dst := &it.Segment.Src, &it.Segment.Dst // the analyzer's input, already built
	m := &it.Frame.Meta
	c := t.row(r.Stream)
	if c.Bits&rowUsed == 0 {
		c.Bits = rowUsed | rowGuessed
		if src.Addr().Is4() {
			c.Bits |= rowV4
		}
		c.Addr = [2][16]byte{src.Addr().As16(), dst.Addr().As16()}
		c.Port = [2]uint16{src.Port(), dst.Port()}
		c.First = m.Time.UnixNano()
		t.count++
		if analysis.GuessClient(*src, *dst) == 1 {
			c.swap() // until a SYN says otherwise, the higher port is the client
		}
	}
	flags := p.TCP.Flags()
	// The SYN's sender (or the SYN-ACK's receiver) is the client; decide
	// once, at the first such segment.
	if c.Bits&rowSure == 0 && flags&analysis.SYN != 0 {
		client := src
		if flags&analysis.ACK != 0 {
			client = dst
		}
		if *client != c.end(0) {
			c.swap() // what was counted so far was counted the wrong way round
		}
		c.Bits = c.Bits&^rowGuessed | rowSure
	}
	d := 0
	if !c.is(0, *src) {
		d = 1
	}
	c.Last = m.Time.UnixNano()
	c.Packets[d]++
	wire := m.OrigLen
	if wire == 0 {
		wire = m.CapLen
	}
	c.Bytes[d] += uint64(wire)
	c.Payload[d] += uint64(p.PayloadLen)
	if r.HasInitialRTT && c.Bits&rowHasRTT == 0 {
		c.RTT = int64(r.InitialRTT)
		c.Bits |= rowHasRTT
	}
	if r.Flags&(analysis.Retransmission|analysis.FastRetransmission|analysis.SpuriousRetransmission) != 0 {
		c.Retrans++
	}
	if r.Flags.Has(analysis.DuplicateAck) {
		c.DupAcks++
	}
	if r.Flags.Has(analysis.ZeroWindow) {
		c.ZeroWin++
	}
	c.Life.Observe(d, flags, m.Time, m.Number)
}

// swap exchanges the client's and the server's roles and counts.
func (r *row) swap() {
	r.Addr[0], r.Addr[1] = r.Addr[1], r.Addr[0]
	r.Port[0], r.Port[1] = r.Port[1], r.Port[0]
	r.Packets[0], r.Packets[1] = r.Packets[1], r.Packets[0]
	r.Bytes[0], r.Bytes[1] = r.Bytes[1], r.Bytes[0]
	r.Payload[0], r.Payload[1] = r.Payload[1], r.Payload[0]
	r.Life.Swap()
}

// conn expands row i into a Conn.
func (r *row) conn(stream int) Conn {
	c := Conn{
		Stream: stream, Client: r.end(0), Server: r.end(1), ClientGuessed: r.Bits&rowGuessed != 0,
		First: time.Unix(0, r.First), Last: time.Unix(0, r.Last),
		HandshakeRTT: time.Duration(r.RTT), HasHandshakeRTT: r.Bits&rowHasRTT != 0,
		Retransmissions: int(r.Retrans), DupAcks: int(r.DupAcks), ZeroWindows: int(r.ZeroWin),
		life: r.Life, clientSure: r.Bits&rowSure != 0, SYNs: int(r.Life.SYNs),
	}
	c.Handshake, c.HasHandshake = r.Life.Handshake()
	for d := 0; d < 2; d++ {
		c.Packets[d] = int(r.Packets[d])
		c.Bytes[d] = int(r.Bytes[d])
		c.Payload[d] = int(r.Payload[d])
	}
	return c
}

// Len is the number of connections in the table.
func (t *Table) Len() int { return t.count }

// All yields the connections by stream number, each expanded into a fresh
// Conn (nothing is kept, so reading a large table costs no memory).
// Streams are numbered as the analyzer numbers them, so none is missing.
func (t *Table) All() iter.Seq[Conn] {
	return func(yield func(Conn) bool) {
		for i := 0; i < t.n; i++ {
			r := t.row(i)
			if r.Bits&rowUsed != 0 && !yield(r.conn(i)) {
				return
			}
		}
	}
}

// Conns returns every connection by stream number (All, collected).
func (t *Table) Conns() []Conn { return slices.Collect(t.All()) }

// Totals adds up every connection (First/Last span them all; the RTT and
// the ending are meaningless for a total and left zero).
func (t *Table) Totals() Conn { return Total(t.All()) }

// Total adds up the connections conns yields, as Totals does for a table
// (stats -Y totals the connections a display filter selected).
func Total(conns iter.Seq[Conn]) Conn {
	var tot Conn
	i := 0
	for c := range conns {
		tot.addTo(&c, i == 0)
		i++
	}
	tot.Stream = -1
	return tot
}

// addTo adds c to the total t (c is the first one added when first).
func (t *Conn) addTo(c *Conn, first bool) {
	if first || c.First.Before(t.First) {
		t.First = c.First
	}
	if c.Last.After(t.Last) {
		t.Last = c.Last
	}
	for d := 0; d < 2; d++ {
		t.Packets[d] += c.Packets[d]
		t.Bytes[d] += c.Bytes[d]
		t.Payload[d] += c.Payload[d]
	}
	t.Retransmissions += c.Retransmissions
	t.DupAcks += c.DupAcks
	t.ZeroWindows += c.ZeroWindows
}
