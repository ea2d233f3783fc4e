package replay

import (
	"io"

	"github.com/tcpscope/tcpscope/frame"
)

// Positioned is a frame source that can say where each frame's record
// starts in the file and carry on reading from such a place: the readers
// NewReader returns for plain (not compressed) pcap and pcapng files
// implement it. tcpscope view keeps one offset per frame and reads any
// frame again from the file, rather than keeping every frame in memory.
type Positioned interface {
	frame.Source
	// LastOffset is the file offset of the record (pcap) or block
	// (pcapng) of the frame Next returned last. It counts from the start
	// of the file only when the reader was given the file from its first
	// byte, uncompressed.
	LastOffset() int64
	// Resume makes the next Next read from r, which must be positioned at
	// off, an offset LastOffset returned, numbering the frame it reads
	// number. The reader keeps what it learnt from the file's headers
	// (byte order, link types, pcapng interfaces seen so far).
	Resume(r io.Reader, off int64, number int)
}

// LastOffset implements Positioned.
func (p *pcapReader) LastOffset() int64 { return p.last }

// Resume implements Positioned.
func (p *pcapReader) Resume(r io.Reader, off int64, number int) {
	p.r = r
	p.br, _ = r.(peeker)
	p.m, _ = r.(*mapping)
	p.off, p.n = off, number-1
}

// LastOffset implements Positioned.
func (p *pcapngReader) LastOffset() int64 { return p.last }

// Resume implements Positioned.
func (p *pcapngReader) Resume(r io.Reader, off int64, number int) {
	p.r = r
	p.off, p.n = off, number-1
}
