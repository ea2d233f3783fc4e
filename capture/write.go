package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpscope/tcpscope/frame"
)

// Writer writes frames to a pcap file (nanosecond timestamps) or, when the
// name ends in .pcapng, to a pcapng file. Close flushes and must be called
// for the file to be complete.
type Writer struct {
	f     *os.File
	bw    *bufio.Writer
	pcap  *pcapgo.Writer
	ng    *pcapgo.NgWriter
	link  frame.LinkType
	count int
}

// Create creates path for frames of link type lt.
func Create(path string, lt frame.LinkType, snaplen int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("write %s: %v", path, err)
	}
	w := &Writer{f: f, bw: bufio.NewWriterSize(f, 1<<16), link: lt}
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	if strings.HasSuffix(path, ".pcapng") {
		// One interface (index 0): gopacket's NgWriter rejects the OS
		// interface index a live handle reports, so frames are written
		// with InterfaceIndex 0.
		w.ng, err = pcapgo.NewNgWriterInterface(w.bw, pcapgo.NgInterface{
			Name: "tcpscope", LinkType: layers.LinkType(lt), SnapLength: uint32(snaplen),
			TimestampResolution: 9,
		}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "tcpscope"}})
	} else {
		w.pcap = pcapgo.NewWriterNanos(w.bw)
		err = w.pcap.WriteFileHeader(uint32(snaplen), layers.LinkType(lt))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %v", path, err)
	}
	return w, nil
}

// Write appends one frame.
func (w *Writer) Write(f frame.Frame) error {
	ci := gopacket.CaptureInfo{Timestamp: f.Meta.Time, CaptureLength: len(f.Data), Length: f.Meta.OrigLen}
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	var err error
	if w.ng != nil {
		err = w.ng.WritePacket(ci, f.Data)
	} else {
		err = w.pcap.WritePacket(ci, f.Data)
	}
	if err != nil {
		return fmt.Errorf("write %s: %v", w.f.Name(), err)
	}
	w.count++
	return nil
}

// Count returns the frames written so far.
func (w *Writer) Count() int { return w.count }

// Name returns the file's path.
func (w *Writer) Name() string { return w.f.Name() }

// Close flushes buffered frames and closes the file.
func (w *Writer) Close() error {
	var err error
	if w.ng != nil {
		err = w.ng.Flush()
	}
	if ferr := w.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %v", w.f.Name(), err)
	}
	return nil
}

// Tee is a frame.Source that writes every frame it passes on.
type Tee struct {
	Src frame.Source
	W   *Writer
	Err error // the first write error, if any (the capture goes on)
}

// Next reads a frame from Src and writes it to W.
func (t *Tee) Next() (frame.Frame, error) {
	f, err := t.Src.Next()
	if err == nil && t.W != nil {
		if werr := t.W.Write(f); werr != nil && t.Err == nil {
			t.Err = werr
		}
	}
	return f, err
}

var _ frame.Source = (*Tee)(nil)
var _ frame.Source = (*Handle)(nil)
var _ io.Closer = (*Writer)(nil)
