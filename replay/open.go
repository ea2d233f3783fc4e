package replay

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/ctxio"
)

// File is an open capture file: a frame.Source plus the file to close.
type File struct {
	frame.Source
	Name   string // the path, or "-" for standard input
	closer io.Closer
}

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Open opens a pcap or pcapng capture, gzip-compressed or not, from path, or
// from stdin when path is "-". Errors name the file and say what is wrong.
func Open(path string, stdin io.Reader) (*File, error) {
	return OpenContext(context.Background(), path, stdin)
}

// OpenContext is Open for a command that a signal may stop: when ctx ends,
// whatever the reading waits for (a FIFO's open, a silent pipe, gzip
// inflating) returns ctx.Err() at once (see internal/ctxio).
func OpenContext(ctx context.Context, path string, stdin io.Reader) (*File, error) {
	var in io.Reader
	var closeIn func() error
	if path == "-" {
		in, closeIn = stdin, func() error { return nil }
	} else {
		f, err := ctxio.Open(ctx, path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", path, pe.Err)
			}
			return nil, err
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s: is a directory, not a capture file (give a file in it, e.g. %s)", path, filepath.Join(path, "*.pcap"))
		}
		if m := mapFile(f, mapMin); m != nil {
			src, err := newMappedReader(m)
			if err != nil {
				m.Close()
				f.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if src != nil {
				// ReadTail's and ViewFrame's windows, mapped when first used.
				late, view := m.twin(), m.twin()
				if pr, ok := src.(*pcapReader); ok {
					pr.late, pr.view = late, view
				}
				return &File{Source: src, Name: path, closer: closerFunc(func() error { view.Close(); late.Close(); m.Close(); return f.Close() })}, nil
			}
			m.Close() // compressed, or not a capture: read as below, which says what it is
		}
		in, closeIn = f, f.Close
	}
	r, release := ctxio.Reader(ctx, in)
	rc := closerFunc(func() error { release(); return closeIn() })
	src, err := NewReader(r)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Source: src, Name: path, closer: rc}, nil
}

// mapMin: smaller files are read with read(2); mapping them gains nothing.
const mapMin = 1 << 20

// newMappedReader returns a reader of the uncompressed pcap or pcapng file
// m maps, or nil (and no error) when m holds something else, which the
// ordinary path then reads and names. Reading a regular file never blocks
// on anything a signal should interrupt, so no ctxio wrapper is needed.
func newMappedReader(m *mapping) (frame.Source, error) {
	var h [4]byte
	if _, err := io.ReadFull(m, h[:]); err != nil {
		return nil, nil
	}
	switch {
	case h == [4]byte{0x0A, 0x0D, 0x0D, 0x0A}:
		return newPcapngReader(m, h[:])
	case isPcapMagic(h):
		return newPcapReader(m, h[:])
	}
	return nil, nil
}

// NextAppend implements frame.Appender, with one copy when the reader
// supports it (an uncompressed pcap) and two otherwise.
func (f *File) NextAppend(buf []byte) (frame.Frame, []byte, error) {
	if a, ok := f.Source.(frame.Appender); ok {
		return a.NextAppend(buf)
	}
	fr, err := f.Source.Next()
	if err != nil {
		return fr, buf, err
	}
	at := len(buf)
	buf = append(buf, fr.Data...)
	fr.Data = buf[at:len(buf):len(buf)]
	return fr, buf, nil
}

// NextAppendHead implements frame.HeadAppender (a whole copy when the
// reader cannot copy heads).
func (f *File) NextAppendHead(buf []byte, n int) (frame.Frame, []byte, error) {
	if h, ok := f.Source.(frame.HeadAppender); ok {
		return h.NextAppendHead(buf, n)
	}
	return f.NextAppend(buf)
}

// NextHeads implements frame.HeadBatcher (frame by frame, through
// NextAppendHead, from a reader that has no loop of its own: it stops when
// the largest frame might not fit, as it cannot see the next one's size).
func (f *File) NextHeads(buf []byte, n int, sum bool, out []frame.Frame) (k int, _ []byte, err error) {
	if h, ok := f.Source.(frame.HeadBatcher); ok {
		return h.NextHeads(buf, n, sum, out)
	}
	hs, _ := f.Source.(frame.HeadSummer)
	for k = range out {
		if k > 0 && cap(buf)-len(buf) < MaxFrame {
			return k, buf, nil // the next frame's size is not known before it is read
		}
		if out[k], buf, err = f.NextAppendHead(buf, n); err != nil {
			return k, buf, err
		}
		if t := &out[k].Tail; sum && t.Off > 0 && hs != nil {
			if t.Sum, err = hs.SumLast(); err != nil {
				return k, buf, err
			}
			t.Summed = true
		}
	}
	return len(out), buf, nil
}

// SumLast implements frame.HeadSummer (0 when the reader copied the last
// frame whole: its Tail is zero then, and nobody asks).
func (f *File) SumLast() (uint16, error) {
	if h, ok := f.Source.(frame.HeadSummer); ok {
		return h.SumLast()
	}
	return 0, nil
}

// ReadTail implements frame.TailReader.
func (f *File) ReadTail(fr frame.Frame) error {
	if fr.Tail.Off == 0 {
		return nil
	}
	if h, ok := f.Source.(frame.TailReader); ok {
		return h.ReadTail(fr)
	}
	return fmt.Errorf("frame %d: its payload was not read", fr.Meta.Number)
}

// SumTail implements frame.TailReader.
func (f *File) SumTail(fr frame.Frame) (uint16, error) {
	if fr.Tail.Off == 0 {
		return 0, nil
	}
	if h, ok := f.Source.(frame.TailReader); ok {
		return h.SumTail(fr)
	}
	return 0, fmt.Errorf("frame %d: its payload was not read", fr.Meta.Number)
}

// ViewFrame implements frame.TailViewer; from a source that cannot lend
// its bytes, the rest is copied into fr.Data first (ReadTail).
func (f *File) ViewFrame(fr frame.Frame, off, n int, use func([]byte)) error {
	if v, ok := f.Source.(frame.TailViewer); ok {
		return v.ViewFrame(fr, off, n, use)
	}
	if err := inFrame(fr, off, n); err != nil {
		return err
	}
	if err := f.ReadTail(fr); err != nil {
		return err
	}
	use(fr.Data[off : off+n])
	return nil
}

// FillLast implements frame.HeadAppender.
func (f *File) FillLast(data []byte) error {
	if h, ok := f.Source.(frame.HeadAppender); ok {
		return h.FillLast(data)
	}
	return nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// NewReader detects the format from the first bytes of r (gzip, pcap in
// either byte order and resolution, pcapng) and returns a frame source.
func NewReader(r io.Reader) (frame.Source, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(4)
	if err != nil {
		var ce compressErr
		if errors.As(err, &ce) {
			return nil, err // the decompressor's own words ("zstd: …")
		}
		if len(head) == 0 {
			return nil, errors.New("empty file, not a capture")
		}
		return nil, errors.New("too short to be a capture")
	}
	if head[0] == 0x1F && head[1] == 0x8B {
		zr, err := gzip.NewReader(br)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.New("gzip header cut short")
		}
		if err != nil {
			return nil, gzipError(err)
		}
		return NewReader(gzipReader{zr})
	}
	if zr, err := decompressor(br, head); zr != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return NewReader(zr)
	}
	var h [4]byte
	copy(h[:], head)
	if _, err := br.Discard(4); err != nil {
		return nil, err
	}
	switch {
	case h == [4]byte{0x0A, 0x0D, 0x0D, 0x0A}:
		return newPcapngReader(br, h[:])
	case isPcapMagic(h):
		return newPcapReader(br, h[:])
	}
	return nil, fmt.Errorf("not a pcap or pcapng file (starts with %02x %02x %02x %02x)", h[0], h[1], h[2], h[3])
}

// Compressed captures besides gzip: zstd (RFC 8878, what Wireshark reads
// and logrotate's zstd option writes) and xz. The formats are not the
// teaching point, so well-kept pure-Go libraries decode them
// (klauspost/compress/zstd, ulikunitz/xz); both stream, so memory stays
// bounded whatever the file's size.
var (
	zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}
	xzMagic   = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}
)

// zstdMaxWindow bounds the zstd window (the memory a frame may make the
// decoder keep): 64 MiB is zstd's largest level's window and far above
// what capture compressors use; a file asking for more is refused.
const zstdMaxWindow = 64 << 20

// decompressor returns a decompressing reader when br starts with the zstd
// or xz magic (head holds at least its first 4 bytes), nil otherwise.
func decompressor(br *bufio.Reader, head []byte) (io.Reader, error) {
	switch {
	case bytes.HasPrefix(head, zstdMagic):
		// One goroutine-free, synchronous stream decoder.
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %v", err)
		}
		return errPrefix{d, "zstd"}, nil
	case bytes.HasPrefix(xzMagic[:4], head[:4]):
		if h, _ := br.Peek(len(xzMagic)); !bytes.Equal(h, xzMagic) {
			return nil, nil
		}
		if err := xzDictOK(br); err != nil {
			return nil, err
		}
		x, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xz: %v", err)
		}
		return errPrefix{x, "xz"}, nil
	}
	return nil, nil
}

// xzMaxDict bounds the LZMA2 dictionary an xz file may ask for (the memory
// the decoder allocates): 64 MiB is what xz -9 uses.
const xzMaxDict = 64 << 20

// xzDictOK reads the LZMA2 dictionary size from the first block header of
// an xz stream (xz file format 1.1.0, §3.1.1 and §5.3.1) and refuses one
// larger than xzMaxDict before the decoder allocates it. Later blocks are
// not checked: xz writes every block of a file with the same filter
// settings.
func xzDictOK(br *bufio.Reader) error {
	b, _ := br.Peek(12 + 1024)
	if len(b) < 13 {
		return nil // too short: the decoder says so
	}
	blk := b[12:]
	if blk[0] == 0 {
		return nil // the index: an empty stream
	}
	size := (int(blk[0]) + 1) * 4
	if size > len(blk) {
		return nil
	}
	flags := blk[1]
	i := 2
	varint := func() (uint64, bool) {
		var v uint64
		for s := uint(0); i < size && s < 63; s += 7 {
			c := blk[i]
			i++
			v |= uint64(c&0x7F) << s
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 { // compressed size present
		if _, ok := varint(); !ok {
			return nil
		}
	}
	if flags&0x80 != 0 { // uncompressed size present
		if _, ok := varint(); !ok {
			return nil
		}
	}
	for f := 0; f <= int(flags&0x03); f++ {
		id, ok1 := varint()
		n, ok2 := varint()
		if !ok1 || !ok2 || i+int(n) > size {
			return nil
		}
		if id == 0x21 && n == 1 { // LZMA2: one byte of dictionary size
			d := blk[i]
			if d > 40 {
				return nil // invalid: the decoder says so
			}
			dict := uint64(2|d&1) << (d/2 + 11)
			if d == 40 {
				dict = 1<<32 - 1
			}
			if dict > xzMaxDict {
				return fmt.Errorf("xz: the file asks for a %d MiB dictionary, more than the %d MiB tcpscope allows (recompress with xz -9 or lower)", dict>>20, xzMaxDict>>20)
			}
		}
		i += int(n)
	}
	return nil
}

// errPrefix names the compression in its read errors ("zstd: …"), once,
// and says "cut short" for a stream that ends early.
type errPrefix struct {
	r    io.Reader
	name string
}

// compressErr is a decompressor's read error, already worded for the user.
type compressErr struct{ error }

func (e compressErr) Unwrap() error { return e.error }

func (e errPrefix) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = compressErr{fmt.Errorf("%s: compressed data cut short (the file is truncated)", e.name)}
	default:
		msg := strings.TrimPrefix(err.Error(), e.name+": ")
		err = compressErr{fmt.Errorf("%s: corrupt compressed data: %s", e.name, msg)}
	}
	return n, err
}

func isPcapMagic(h [4]byte) bool {
	switch h {
	case [4]byte{0xD4, 0xC3, 0xB2, 0xA1}, [4]byte{0xA1, 0xB2, 0xC3, 0xD4},
		[4]byte{0x4D, 0x3C, 0xB2, 0xA1}, [4]byte{0xA1, 0xB2, 0x3C, 0x4D}:
		return true
	}
	return false
}

// gzipReader puts compress/gzip's errors into words: its own carry a
// "gzip: " prefix, flate's speak of offsets into the compressed stream.
type gzipReader struct{ r *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

// gzipError says what is wrong with a gzip stream, once prefixed "gzip:"
// (compress/gzip's sentinels already are: "gzip: gzip: invalid header").
// Errors that are not the stream's (a signal, an I/O error) pass as they
// are; a stream that just ends stays io.ErrUnexpectedEOF ("cut short").
func gzipError(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return wrapped{"gzip: bad CRC-32 checksum (the gzip trailer does not match the data): the compressed file is corrupt", err}
	case errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("gzip: invalid header (not a gzip stream, or garbage after one)")
	case errors.As(err, &ce):
		return fmt.Errorf("gzip: corrupt deflate data %d bytes into the compressed stream", int64(ce))
	}
	return err
}

// wrapped is an error in words of its own that still matches errors.Is on
// the one it replaces.
type wrapped struct {
	msg string
	err error
}

func (w wrapped) Error() string { return w.msg }
func (w wrapped) Unwrap() error { return w.err }
