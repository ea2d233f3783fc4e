package view

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/tcpscope/tcpscope/frame"
)

// spool is a live frame source written, frame by frame, to a pcap file of
// its own as it is read: the view reads frames again from that file at
// their offsets, as it does for a capture file, so a long live session
// costs the index's few bytes a frame in memory, not the frames.
type spool struct {
	src  frame.Source
	f    *os.File
	w    *bufio.Writer
	off  int64 // where the next record goes
	last int64
	hdr  [16]byte
}

// newSpool creates the spool file in the temporary folder. The pcap file
// header is written with the first frame, whose link type it takes.
func newSpool(src frame.Source) (*spool, error) {
	f, err := os.CreateTemp("", "tcpscope-view-*.pcap")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the live frames: %w", err)
	}
	return &spool{src: src, f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// header writes the pcap file header: nanosecond time stamps, link type lt.
func (s *spool) header(lt frame.LinkType) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xA1B23C4D) // pcap, nanoseconds
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], uint32(lt))
	s.w.Write(h[:])
	s.off = 24
}

// Next reads a frame from the live source and appends it to the file.
func (s *spool) Next() (frame.Frame, error) {
	f, err := s.src.Next()
	if err != nil {
		return f, err
	}
	if s.off == 0 {
		s.header(f.Meta.Link)
	}
	t := f.Meta.Time.UnixNano()
	binary.LittleEndian.PutUint32(s.hdr[0:], uint32(t/1e9))
	binary.LittleEndian.PutUint32(s.hdr[4:], uint32(t%1e9))
	binary.LittleEndian.PutUint32(s.hdr[8:], uint32(len(f.Data)))
	binary.LittleEndian.PutUint32(s.hdr[12:], uint32(max(f.Meta.OrigLen, len(f.Data))))
	s.w.Write(s.hdr[:])
	if _, err := s.w.Write(f.Data); err != nil {
		return frame.Frame{}, fmt.Errorf("writing the live frames to %s: %w", s.f.Name(), err)
	}
	s.last = s.off
	s.off += 16 + int64(len(f.Data))
	return f, nil
}

// LastOffset is the offset of the record of the frame Next returned last.
func (s *spool) LastOffset() int64 { return s.last }

// flush writes out what is buffered, so the frames indexed can be read.
func (s *spool) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writing the live frames to %s: %w", s.f.Name(), err)
	}
	return nil
}

func (s *spool) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// Live is what RunLive needs of a live capture.
type Live struct {
	// Src gives the frames as they arrive, io.EOF when the capture stops;
	// every frame has the first one's link type. A *Feed also brings
	// socket calls, shown among the frames.
	Src frame.Source
}

// RunLive shows frames as they arrive from live.Src (capture --tui): the
// list follows the newest frame until the user moves up (G follows again),
// as less +F does. The frames go to a temporary file, deleted on return.
// The caller stops the source when RunLive returns.
func RunLive(ctx context.Context, o Options, live Live) error {
	sp, err := newSpool(live.Src)
	if err != nil {
		return err
	}
	defer sp.remove()
	o.Path, o.Live = sp.f.Name(), true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := &Index{path: o.Name, changed: make(chan struct{})}
	x.cache.block = -1
	if fd, ok := live.Src.(*Feed); ok {
		fd.setSink(x.addCall)
	}
	go x.run(ctx, sp)
	return run(ctx, o, x)
}
