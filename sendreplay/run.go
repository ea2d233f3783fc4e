package sendreplay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tcpscope/tcpscope/replay"
)

// Options tune a replay.
type Options struct {
	// Pace sends each chunk at its captured time after the connection was
	// opened, instead of as soon as its turn comes.
	Pace bool
	// Wait is how long to wait for reply bytes the server has not sent:
	// before a write that followed them in the capture, and at the end for
	// the rest of the reply. 0 means 3 s.
	Wait time.Duration
	// Grace is how long to keep listening once the whole captured reply
	// has arrived, to notice a longer one. 0 means 300 ms.
	Grace time.Duration
	// Clock paces the chunks with Pace; nil means the wall clock.
	Clock replay.Clock
	// Dial opens the connection; nil means a plain TCP dial with a 5 s
	// timeout. Tests use it to reach a server in-process.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// Verdict is how the live replies compare with the captured ones.
type Verdict int

// The verdicts, best first.
const (
	Identical   Verdict = iota // the same bytes
	Differs                    // a byte differs at Result.Offset
	Shorter                    // a prefix of the captured reply, the connection still open
	Longer                     // the captured reply and more
	ClosedEarly                // a prefix, and the server closed or reset the connection
)

// Result is the outcome of a replay.
type Result struct {
	Verdict Verdict
	Offset  int    // for Differs: the first differing byte, from 0
	Want    []byte // the captured reply
	Got     []byte // the live reply
	Sent    int    // client bytes written
	Writes  int    // writes made
	// Ended says how the live connection ended: "closed" (FIN),
	// "reset" (RST), or "" when still open at the end.
	Ended string
	// Unsent is the number of chunks not written because the server closed
	// or reset the connection first.
	Unsent int
}

// Match reports whether the server answered exactly as captured.
func (r *Result) Match() bool { return r.Verdict == Identical }

// Run connects to addr, replays s's client side and compares the replies.
// An error means the replay could not be made (connection refused, ctx
// cancelled); a server that answers differently is a Result, not an error.
func Run(ctx context.Context, s *Session, addr string, o Options) (*Result, error) {
	if o.Wait <= 0 {
		o.Wait = 3 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 300 * time.Millisecond
	}
	dial := o.Dial
	if dial == nil {
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second}
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %v", addr, dialReason(err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	rd := newReader(conn)
	res := &Result{Want: s.Reply}
	pacer := &replay.Pacer{Speed: 1, Clock: o.Clock}
	base := time.Unix(0, 0) // pacer timestamps: base + captured offset
	if o.Pace {
		_ = pacer.Wait(ctx, base) // fixes the start: the connection is open
	}
	for i, c := range s.Chunks {
		if o.Pace {
			if err := pacer.Wait(ctx, base.Add(c.At)); err != nil {
				return nil, err
			}
		}
		if err := rd.waitFor(ctx, c.Acked, o.Wait); err != nil {
			return nil, err
		}
		if rd.ended {
			res.Unsent = len(s.Chunks) - i
			break
		}
		n, err := conn.Write(c.Data)
		res.Sent += n
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			res.Unsent = len(s.Chunks) - i
			break
		}
		res.Writes++
	}
	if s.ClientFIN && res.Unsent == 0 {
		if o.Pace {
			if err := pacer.Wait(ctx, base.Add(s.FINAt)); err != nil {
				return nil, err
			}
		}
		if err := rd.waitFor(ctx, s.FINAcked, o.Wait); err != nil {
			return nil, err
		}
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite() // a failure shows up as the reader's error
		}
	}
	// Collect the rest: until the server closes, or a reply longer than
	// captured, or the captured length and Grace more, or Wait in silence.
	if err := rd.waitEnd(ctx, len(s.Reply), o.Wait, o.Grace); err != nil {
		return nil, err
	}
	got, ended := rd.result()
	res.Got, res.Ended = got, ended
	res.Verdict, res.Offset = compare(s.Reply, got, ended != "" || res.Unsent > 0)
	return res, nil
}

// compare judges got against want; ended says the connection was closed or
// reset (or stopped taking data) before the replay was done.
func compare(want, got []byte, ended bool) (Verdict, int) {
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		if want[i] != got[i] {
			return Differs, i
		}
	}
	switch {
	case len(got) == len(want):
		return Identical, len(got)
	case len(got) > len(want):
		return Longer, len(want)
	case ended:
		return ClosedEarly, len(got)
	}
	return Shorter, len(got)
}

// dialReason strips Go's "dial tcp ADDR: connect:" prefix, leaving the
// reason ("connection refused"), since the caller names the address.
func dialReason(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// reader collects the server's bytes in the background so that writes
// never wait on reads and a server that stops reading cannot deadlock us.
type reader struct {
	data  chan []byte
	done  chan error
	got   []byte
	err   error // io.EOF, a reset, or another read error
	ended bool
}

func newReader(c net.Conn) *reader {
	r := &reader{data: make(chan []byte, 64), done: make(chan error, 1)}
	go func() {
		for {
			buf := make([]byte, 32<<10)
			n, err := c.Read(buf)
			if n > 0 {
				r.data <- buf[:n]
			}
			if err != nil {
				close(r.data)
				r.done <- err
				return
			}
		}
	}()
	return r
}

// step takes what arrived, waiting until timeout for something. It returns
// false on timeout.
func (r *reader) step(ctx context.Context, timeout time.Duration) (bool, error) {
	if r.ended {
		return false, nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case b, ok := <-r.data:
		if !ok {
			r.err, r.ended = <-r.done, true
			return true, nil
		}
		r.got = append(r.got, b...)
		return true, nil
	case <-t.C:
		return false, nil
	}
}

// waitFor waits until n bytes arrived, the connection ended, or wait
// passed with nothing new.
func (r *reader) waitFor(ctx context.Context, n int, wait time.Duration) error {
	for len(r.got) < n && !r.ended {
		ok, err := r.step(ctx, wait)
		if err != nil || !ok {
			return err
		}
	}
	// Take whatever else is already there, without waiting.
	for !r.ended {
		select {
		case b, ok := <-r.data:
			if !ok {
				r.err, r.ended = <-r.done, true
				return nil
			}
			r.got = append(r.got, b...)
		default:
			return nil
		}
	}
	return nil
}

// waitEnd waits for the end of the reply (see Run).
func (r *reader) waitEnd(ctx context.Context, want int, wait, grace time.Duration) error {
	for !r.ended && len(r.got) <= want {
		d := wait
		if len(r.got) == want {
			d = grace
		}
		ok, err := r.step(ctx, d)
		if err != nil || !ok {
			return err
		}
	}
	return nil
}

func (r *reader) result() ([]byte, string) {
	switch {
	case !r.ended:
		return r.got, ""
	case errors.Is(r.err, io.EOF):
		return r.got, "closed"
	case errors.Is(r.err, syscall.ECONNRESET):
		return r.got, "reset"
	}
	return r.got, "ended: " + r.err.Error()
}

// Report writes the verdict: one line, then for a difference both sides
// around the first differing byte.
func (r *Result) Report(w io.Writer) error {
	var b strings.Builder
	switch r.Verdict {
	case Identical:
		fmt.Fprintf(&b, "identical (%s)\n", nBytes(len(r.Got)))
	case Differs:
		fmt.Fprintf(&b, "differs at byte %d (counting from 0): captured %s, received %s\n",
			r.Offset, byteName(r.Want[r.Offset]), byteName(r.Got[r.Offset]))
		context2(&b, r.Want, r.Got, r.Offset)
	case Longer:
		fmt.Fprintf(&b, "longer: received %s, the captured reply has %d; the extra bytes start at byte %d\n",
			nBytes(len(r.Got)), len(r.Want), len(r.Want))
		context2(&b, r.Want, r.Got, len(r.Want))
	case Shorter:
		fmt.Fprintf(&b, "shorter: received %d of the %d captured bytes (no more came and the connection is still open)\n",
			len(r.Got), len(r.Want))
		context2(&b, r.Want, r.Got, len(r.Got))
	case ClosedEarly:
		how := "closed the connection"
		if r.Ended == "reset" {
			how = "reset the connection"
		} else if r.Ended == "" || strings.HasPrefix(r.Ended, "ended") {
			how = "stopped taking data"
		}
		fmt.Fprintf(&b, "server closed or reset early: it %s after %d of the %d captured reply bytes", how, len(r.Got), len(r.Want))
		if r.Unsent > 0 {
			fmt.Fprintf(&b, ", before %d client write(s) could be made", r.Unsent)
		}
		b.WriteString("\n")
		context2(&b, r.Want, r.Got, len(r.Got))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func byteName(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q (0x%02x)", rune(c), c)
	}
	return fmt.Sprintf("0x%02x", c)
}

// context2 shows both sides, 16 bytes each, from 8 before off, with a
// caret under byte off.
func context2(b *strings.Builder, want, got []byte, off int) {
	const width, before = 16, 8
	start := max(off-before, 0)
	line := func(label string, data []byte) {
		fmt.Fprintf(b, "  %-9s %08x  ", label, start)
		var ascii strings.Builder
		for i := start; i < start+width; i++ {
			if i == start+width/2 {
				b.WriteString(" ")
			}
			if i < len(data) {
				fmt.Fprintf(b, "%02x ", data[i])
				c := data[i]
				if c < 0x20 || c >= 0x7f {
					c = '.'
				}
				ascii.WriteByte(c)
			} else {
				b.WriteString("   ")
				ascii.WriteByte(' ')
			}
		}
		fmt.Fprintf(b, " |%s|\n", ascii.String())
	}
	line("captured", want)
	line("received", got)
	// Caret under the hex pair and the ASCII character of byte off.
	col := 2 + 9 + 1 + 8 + 2 + (off-start)*3
	if off-start >= width/2 {
		col++
	}
	acol := 2 + 9 + 1 + 8 + 2 + width*3 + 1 + 2 + (off - start)
	pad := bytes.Repeat([]byte(" "), acol+1)
	pad[col], pad[col+1], pad[acol] = '^', '^', '^'
	b.WriteString(strings.TrimRight(string(pad), " ") + "\n")
}

// nBytes writes "1 byte" or "N bytes".
func nBytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
