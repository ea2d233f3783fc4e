//go:build linux

// Command readfloor measures the least a program can spend reading a pcap
// file the way tcpscope replay must: every record walked in order, and
// every captured byte added up as the Internet checksum does (replay marks
// a bad TCP checksum on its line, so it reads every payload byte), through
// the same 2 MiB sliding mmap(2) window replay reads with. It decodes
// nothing, keeps nothing and prints one line at the end. With -heads N it
// adds up only each record's first N bytes: what replay's text lines need
// (they copy 192 bytes of headers, and tell a bad checksum from one Linux
// left partial for offload by the header alone; JSON needs every byte).
//
// Why it exists: issue 18 asks replay for 3× the rate of `TZ=UTC tcpdump
// -nr`. scripts/bench-compare.sh times this program next to the real tools,
// so the table shows how much of that budget reading alone takes on the
// machine it runs on (on a 2-core VM with slow memory, nearly all of it),
// instead of the reader having to take a note's word for it.
//
//	go run ./bench/readfloor bench/bulk.pcap
//	go run ./bench/readfloor -heads 192 bench/bulk.pcap
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/tcpscope/tcpscope/internal/inetsum"
	"golang.org/x/sys/unix"
)

// window is replay's mapWindow: the same number of mmap/munmap calls and
// page-table work per byte.
const window = 4 << 20

func main() {
	heads := flag.Int("heads", 0, "add up only each record's first `N` bytes (0: all of them)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: readfloor [-heads N] FILE.pcap")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *heads < 0 {
		flag.Usage()
		os.Exit(2)
	}
	packets, bytes, sum, err := walk(flag.Arg(0), window, *heads)
	if err != nil {
		fmt.Fprintf(os.Stderr, "readfloor: %s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	// The sum is printed so the work cannot be optimised away.
	fmt.Printf("%d records, %d captured bytes, sum %#04x\n", packets, bytes, inetsum.Fold(sum))
}

// walk reads the pcap file name record by record through a mapped window
// of (at least) win bytes and adds up every captured byte (the first heads
// of each record, when heads > 0). A file truncated while mapped faults on the next touch;
// SetPanicOnFault turns that into an error here rather than a crash.
func walk(name string, win0, heads int) (packets, bytes int64, sum uint64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, 0, err
	}
	size := fi.Size()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the mapping (a file shrunk under it faults): %v", r)
		}
	}()

	var hdr [24]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return 0, 0, 0, fmt.Errorf("no pcap header: %w", err)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(hdr[:]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return 0, 0, 0, errors.New("not a pcap file (pcapng is not walked here)")
	}

	var win []byte
	var winOff int64
	defer func() {
		if win != nil {
			_ = unix.Munmap(win)
		}
	}()
	// slide maps the window so that it holds off…end.
	slide := func(off, end int64) error {
		if win != nil && off >= winOff && end <= winOff+int64(len(win)) {
			return nil
		}
		if win != nil {
			_ = unix.Munmap(win)
			win = nil
		}
		winOff = off &^ int64(os.Getpagesize()-1)
		n := min(max(int64(win0), end-winOff), size-winOff)
		b, err := unix.Mmap(int(f.Fd()), winOff, int(n), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return err
		}
		_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
		win = b
		return nil
	}

	off := int64(len(hdr))
	for off+16 <= size {
		if err := slide(off, off+16); err != nil {
			return packets, bytes, sum, err
		}
		capLen := int64(order.Uint32(win[off-winOff+8:]))
		end := off + 16 + capLen
		if end > size {
			return packets, bytes, sum, fmt.Errorf("record %d cut short at byte %d", packets+1, size)
		}
		if err := slide(off, end); err != nil {
			return packets, bytes, sum, err
		}
		rec := win[off+16-winOff : end-winOff]
		if heads > 0 && len(rec) > heads {
			rec = rec[:heads]
		}
		sum = inetsum.Add(rec, sum)
		packets++
		bytes += capLen
		off = end
	}
	return packets, bytes, sum, nil
}
