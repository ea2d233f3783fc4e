//go:build linux || darwin || freebsd || netbsd || openbsd

package replay

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// mapping reads a regular file through a window of mmap(2) that slides
// along it, instead of read(2) into a buffer.
//
// Why: read(2) copies every byte of the capture from the page cache into
// the process, and for `tcpscope stats` that copy was a third of all the
// CPU time, on the goroutine that paces the whole pipeline. Through a
// mapping the bytes are copied once, by us, straight to where they are
// kept (the pipeline's batch, see pcapReader.NextAppend).
//
// Why by hand: the libraries (golang.org/x/exp/mmap, edsrzf/mmap-go) map a
// whole file and leave what happens when it is truncated while mapped to
// the kernel: the next touch of a page past the new end raises SIGBUS, and
// a Go program dies of it with a stack trace. Here mapped memory never
// leaves this package: every read of it happens inside Read or inside a
// reader's Next, which catch that fault (debug.SetPanicOnFault) and return
// it as an error naming the offset. And the window keeps the memory the
// process maps bounded (mapWindow), whatever the file's size.
type mapping struct {
	f      *os.File
	size   int64  // the file's size when last looked at
	win    []byte // the window, mapped from winOff
	winOff int64
	pos    int64 // file offset of the next unread byte
	// populate maps each window's pages when it is mapped (MAP_POPULATE),
	// for a reader that reads every byte.
	populate bool
	// window is how much of the file is mapped at a time: mapWindow for
	// the reader, twinWindow for a twin.
	window int64
	// align is what the reader's window starts at a multiple of in the
	// file (mapAlign); a twin's starts at any page (0).
	align int64
}

// mapWindow is how much of the file past the next record the reader maps
// at a time (from the mapAlign boundary before it to the one after: 2 to 4
// MiB): large enough that remapping is rare, small enough that it is a
// fraction of the memory bound. Each slide unmaps the window before, and on
// two cores that costs a TLB shootdown: an interrupt to the other core,
// which runs tcpscope's other goroutines, tens of microseconds on a VM.
// Before windows were aligned, 4 MiB instead of 2 halved them (replay of
// bench/bulk.pcap 3-4 % less CPU); aligned, a 2 MiB window slides as often
// as that did (every 2 MiB of file read, with one folio mapped again) and
// keeps the same resident size, 2 MB less than a 4 MiB aligned one would
// (follow of big.pcap: peak RSS 57 728 KiB, 59 528 KiB with 4 MiB), for a
// little more kernel time than 4 MiB aligned (stats of bulk.pcap 0.049
// against 0.043 s).
const mapWindow = 2 << 20 // scripts/bench-compare.sh counts windows by it

// mapAlign: the reader's window starts at a multiple of 2 MiB in the file,
// and ends at one, so that it maps the page cache's large pieces (folios)
// whole. Why: Linux caches a file read front to back (by cat, cp, or
// the capture's first reading) in folios of up to 2 MiB, and the mapping
// it hands out sits at the same offset modulo 2 MiB as the file: a
// window that starts there maps each folio with one page fault. A window
// that started at the page of the next record, as it did, split folios at
// both ends and took three times the faults: stats of make bench's
// bulk.pcap 18 600 page faults, 6 400 aligned (3 700 of them the
// program's own start), and about half the kernel time (medians of 9
// alternating runs: 0.073 -> 0.044 s; replay --json of big.pcap 0.093 ->
// 0.075 s). A file cached in small pieces (one just written a packet at a
// time) is mapped as before, a 16-page fault at a time.
const mapAlign = 2 << 20

// twinWindow is a twin's window (the tails and payloads read from another
// goroutine, follow's stream): those are read now and then, not front to
// back, and a larger window would only hold more of the file resident.
const twinWindow = 2 << 20

// mapFile returns a mapping of f when f is a regular file of at least
// minSize bytes and the system lets us map it; nil otherwise (the caller
// reads f as before).
func mapFile(f *os.File, minSize int64) *mapping {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < max(minSize, 1) {
		return nil
	}
	m := &mapping{f: f, size: fi.Size(), window: mapWindow, align: mapAlign}
	if m.slide(1) != nil {
		return nil
	}
	return m
}

// slide maps the window so that it covers pos…end (end is exclusive),
// unmapping the one before: no bytes of it are referenced any more, since
// none leave the package. At the end of the file it looks again at the
// file's size, so a capture still being written is read as far as it has
// got, as read(2) would.
func (m *mapping) slide(end int64) error {
	if end > m.size {
		if fi, err := m.f.Stat(); err == nil && fi.Size() > m.size {
			m.size = fi.Size()
		}
	}
	off := m.pos &^ int64(os.Getpagesize()-1)
	n := max(m.window, end-off)
	if a := m.align; a > 0 {
		// The window's ends on the page cache's folios (mapAlign), with
		// at least window bytes from pos on: 4 to 6 MiB for the reader.
		off = m.pos &^ (a - 1)
		n = (max(m.pos-off+m.window, end-off) + a - 1) &^ (a - 1)
	}
	n = min(n, m.size-off)
	if n <= 0 || (off == m.winOff && n == int64(len(m.win))) {
		return nil
	}
	flags := unix.MAP_SHARED
	if m.populate {
		flags |= mapPopulate
	}
	// The window before goes first: mapped together, the two would count
	// in the resident set at once (both whole, with populate).
	m.unmap()
	b, err := unix.Mmap(int(m.f.Fd()), off, int(n), unix.PROT_READ, flags)
	if err != nil {
		return fmt.Errorf("mmap at byte %d: %w", off, err)
	}
	// The kernel reads ahead further for a window read front to back.
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
	m.win, m.winOff = b, off
	return nil
}

func (m *mapping) unmap() {
	if m.win != nil {
		_ = unix.Munmap(m.win)
		m.win = nil
	}
}

// Close unmaps the window; the file is closed by its owner.
func (m *mapping) Close() error {
	m.unmap()
	return nil
}

// Peek returns the next n bytes without consuming them, as bufio.Reader's
// Peek does (fewer, with io.EOF, at the end of the file). They alias the
// mapping: valid until the next call, and to be read only under guard.
func (m *mapping) Peek(n int) ([]byte, error) {
	if n <= 0 {
		return nil, nil // an empty record, also at the end of the file
	}
	end := m.pos + int64(n)
	if m.win == nil || end > m.winOff+int64(len(m.win)) {
		if err := m.slide(end); err != nil {
			return nil, err
		}
	}
	if m.win == nil || m.pos >= m.winOff+int64(len(m.win)) {
		return nil, io.EOF
	}
	s := m.win[m.pos-m.winOff:]
	if len(s) < n {
		return s, io.EOF
	}
	return s[:n], nil
}

// rest returns what the window holds from the next unread byte on (nil
// when that lies outside it), for the reader's fast path (nextHead). Like
// Peek's, the bytes alias the mapping.
func (m *mapping) rest() []byte {
	at := m.pos - m.winOff
	if m.win == nil || at < 0 || at >= int64(len(m.win)) {
		return nil
	}
	return m.win[at:]
}

// at returns n bytes from file offset off when the window still holds
// them (the record just read always is: the window was slid to cover it).
// Like Peek's, they alias the mapping.
func (m *mapping) at(off int64, n int) ([]byte, bool) {
	if m.win == nil || off < m.winOff || off+int64(n) > m.winOff+int64(len(m.win)) {
		return nil, false
	}
	return m.win[off-m.winOff : off-m.winOff+int64(n)], true
}

// twin returns a second mapping of the same file, with no window yet: for
// reads at other offsets from another goroutine (pcapReader.ReadTail).
func (m *mapping) twin() *mapping { return &mapping{f: m.f, size: m.size, window: twinWindow} }

// region returns n bytes from file offset off, sliding the window there
// (forward or back) when it does not hold them. Like Peek's, they alias the
// mapping: valid until the next call, and to be read only under guard.
func (m *mapping) region(off int64, n int) ([]byte, error) {
	if b, ok := m.at(off, n); ok {
		return b, nil
	}
	m.pos = off
	if err := m.slide(off + int64(n)); err != nil {
		return nil, err
	}
	if b, ok := m.at(off, n); ok {
		return b, nil
	}
	return nil, fmt.Errorf("bytes %d to %d lie past the end of the file", off, off+int64(n))
}

// Discard skips n bytes, as bufio.Reader's Discard does.
func (m *mapping) Discard(n int) (int, error) {
	left := max(m.size-m.pos, 0)
	if int64(n) > left {
		m.pos += left
		return int(left), io.EOF
	}
	m.pos += int64(n)
	return n, nil
}

// Size is the most Peek can return at once: the readers ask before
// peeking a large record.
func (m *mapping) Size() int { return int(m.window) }

// Read copies the next bytes out of the mapping (for the file headers and
// for pcapng's blocks), under guard.
func (m *mapping) Read(p []byte) (n int, err error) {
	if len(p) == 0 {
		return 0, nil
	}
	defer guard(debug.SetPanicOnFault(true), m.pos, &err)
	b, err := m.Peek(min(len(p), int(m.window)))
	if len(b) == 0 {
		return 0, err
	}
	n = copy(p, b)
	m.pos += int64(n)
	return n, nil
}
