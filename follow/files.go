package follow

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/tcpscope/tcpscope/internal/safefile"
	"github.com/tcpscope/tcpscope/session"
)

// Files writes each direction to its own file in dir (see flowFiles) and
// tells report the names and sizes at the end.
func Files(dir string, force bool, report io.Writer) Writer {
	return &flowFiles{report: report, dir: dir, force: force}
}

// flowName is tcpflow's file name for one direction: each address part and
// port zero-padded (192.168.000.001.01234-010.000.000.002.00080), so that
// ls sorts flows sensibly.
func flowName(src, dst netip.AddrPort) string {
	part := func(ap netip.AddrPort) string {
		a := ap.Addr().Unmap()
		if a.Is4() {
			b := a.As4()
			return fmt.Sprintf("%03d.%03d.%03d.%03d.%05d", b[0], b[1], b[2], b[3], ap.Port())
		}
		return strings.ReplaceAll(a.StringExpanded(), ":", "") + fmt.Sprintf(".%05d", ap.Port())
	}
	return part(src) + "-" + part(dst)
}

// flowFiles writes each direction to DIR/src.port-dst.port as its bytes
// arrive. Missing and uncaptured bytes are written as zeros, as tcpflow
// leaves holes, so file offsets stay stream offsets; report (the command's
// stdout) says how many there were.
//
// The names are predictable from the capture, so the files are created by
// internal/safefile's rules: never through a symlink, never over an
// existing file unless force, and relative to DIR's descriptor so that a
// component swapped for a symlink cannot redirect them.
type flowFiles struct {
	report io.Writer // told where the files are
	dir    string
	force  bool
	open   bool
	f      [2]*os.File
	bw     [2]*bufio.Writer
	name   [2]string
	n      [2]int
}

// create makes both files (at the first chunk, or at the end for a stream
// without data).
func (v *flowFiles) create(s *session.Session) error {
	v.open = true
	od, err := safefile.OpenDir(v.dir)
	if err != nil {
		return &WriteError{err}
	}
	defer od.Close()
	for d := 0; d < 2; d++ {
		base := flowName(s.Ends[d], s.Ends[1-d])
		v.name[d] = filepath.Join(v.dir, base)
		f, err := od.Create(base, v.force)
		if err != nil {
			return &WriteError{err}
		}
		v.f[d], v.bw[d] = f, bufio.NewWriterSize(f, 64<<10)
	}
	return nil
}

func (v *flowFiles) Chunk(s *session.Session, c session.Chunk) error {
	if !v.open {
		if err := v.create(s); err != nil {
			return err
		}
	}
	d := c.Dir
	if _, err := v.bw[d].Write(c.Data); err != nil {
		return v.fail(d, err)
	}
	var zero [4096]byte
	for n := c.Missing + c.Uncaptured; n > 0; n -= min(n, len(zero)) {
		if _, err := v.bw[d].Write(zero[:min(n, len(zero))]); err != nil {
			return v.fail(d, err)
		}
	}
	v.n[d] += len(c.Data) + c.Missing + c.Uncaptured
	return nil
}

func (v *flowFiles) fail(d int, err error) error {
	return &WriteError{fmt.Errorf("%s: %v", v.name[d], unwrapPathErr(err))}
}

func (v *flowFiles) Finish(s *session.Session) error {
	if !v.open {
		if err := v.create(s); err != nil {
			return err
		}
	}
	holes := s.Follow.Gaps()
	for d := 0; d < 2; d++ {
		err := v.bw[d].Flush()
		if cerr := v.f[d].Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return v.fail(d, err)
		}
		fmt.Fprintf(v.report, "%s  %s", v.name[d], nOf(v.n[d], "byte"))
		if holes[d] > 0 {
			fmt.Fprintf(v.report, " (%d of them zeros standing for bytes the capture lacks)", holes[d])
		}
		fmt.Fprintln(v.report)
	}
	return nil
}

// unwrapPathErr drops *os.PathError's "op /path:" prefix where the message
// names the file itself.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
