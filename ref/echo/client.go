package echo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// ClientConfig says what the echo client sends and how it ends.
type ClientConfig struct {
	// Addr is the server, "host:port": "127.0.0.1:7000", "[::1]:7000",
	// "localhost:7000".
	Addr string
	// Trace receives every socket call the client makes (nil: none).
	Trace sock.Tracer
	// Lines are sent one at a time, each with a "\n" added; the reply to
	// each is read in full and printed before the next is sent.
	Lines []string
	// Stdin is read line by line when there are no Lines and no Bulk: an
	// interactive client. nil means no input.
	Stdin io.Reader
	// Bulk, when > 0, replaces the lines: the client sends this many bytes
	// in one Write (a pattern, not printed) while it reads the echo back
	// at the same time, then half-closes with shutdown(SHUT_WR).
	Bulk int
	// SndBuf, when > 0, sets SO_SNDBUF so a full window makes write block
	// sooner (demo of flow control).
	SndBuf int
	// Reset makes the client end with an abortive close (SO_LINGER {1, 0}):
	// RST instead of FIN; the server's next read fails with ECONNRESET.
	// With Bulk the client then does not half-close first (unless
	// HalfClose): it reads the whole echo back, then resets.
	Reset bool
	// HalfClose makes the client write all its Lines at once, then
	// shutdown(SHUT_WR) (FIN: "that is all") and read the replies until the
	// server closes: data still flows towards the client after its FIN. For
	// a server that answers at EOF (ServerConfig.AnswerAtEOF).
	HalfClose bool
	// MaxSeg, when > 0, sets TCP_MAXSEG before connect: the SYN advertises
	// it and the client's segments are no larger.
	MaxSeg int
	// Connected, when set, is called once the connection is established,
	// before the first write; the demo holds several clients there until
	// all are connected, so every handshake completes (the kernel's doing)
	// before the iterative server has accepted more than the first.
	Connected func()
	// Out receives the replies (nil: discarded).
	Out io.Writer
}

// Result tells what a client run did.
type Result struct {
	Local, Remote  netip.AddrPort // the connection's two ends
	Sent, Received int            // bytes written and bytes read back
	WriteTook      time.Duration  // time spent in Write calls (long when the window was full)
}

// RunClient connects to the server, sends, reads the echoes, prints them to
// Out and closes. Cancelling ctx closes the socket and ends the run.
func RunClient(ctx context.Context, cfg ClientConfig) (Result, error) {
	var res Result
	host, port, err := SplitAddr(cfg.Addr)
	if err != nil {
		return res, err
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	who := sock.Caller{Who: "client", Trace: cfg.Trace}
	var prepare func(*sock.Socket) error
	if cfg.MaxSeg > 0 {
		prepare = func(s *sock.Socket) error { return s.SetMaxSeg(cfg.MaxSeg) }
	}
	c, err := who.DialTCPWith(ctx, host, port, prepare)
	if err != nil {
		return res, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	res.Remote = c.Peer()
	if res.Local, err = c.Getsockname(); err != nil {
		_ = c.Close()
		return res, err
	}
	if cfg.SndBuf > 0 {
		if err := c.SetSndBuf(cfg.SndBuf); err != nil {
			_ = c.Close()
			return res, err
		}
	}
	if cfg.Connected != nil {
		cfg.Connected()
	}

	switch {
	case cfg.Bulk > 0:
		err = bulk(c, cfg.Bulk, !cfg.Reset || cfg.HalfClose, &res, out)
	case cfg.HalfClose:
		err = halfClose(c, cfg.Lines, &res, out)
	default:
		err = lines(c, cfg, &res, out)
	}
	if err == nil && cfg.Reset {
		err = c.SetLingerReset()
	}
	if cerr := c.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, err
}

// lines sends each line and waits for its echo before the next: the
// request/response rhythm of the classic client.
func lines(c *sock.Socket, cfg ClientConfig, res *Result, out io.Writer) error {
	send := func(line string) error {
		msg := []byte(line + "\n")
		start := time.Now()
		n, err := c.Write(msg)
		res.WriteTook += time.Since(start)
		res.Sent += n
		if err != nil {
			return err
		}
		reply, err := readN(c, len(msg))
		res.Received += len(reply)
		out.Write(reply)
		return err
	}
	if len(cfg.Lines) > 0 {
		for _, l := range cfg.Lines {
			if err := send(l); err != nil {
				return err
			}
		}
		return nil
	}
	if cfg.Stdin == nil {
		return nil
	}
	sc := bufio.NewScanner(cfg.Stdin)
	for sc.Scan() {
		if err := send(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// readN reads exactly n bytes, however many read calls that takes: TCP
// delivers a byte stream, not messages, so one write by the server may
// arrive as several reads here (short reads).
func readN(c *sock.Socket, n int) ([]byte, error) {
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := c.Read(buf[got:])
		got += k
		if err == io.EOF {
			return buf[:got], fmt.Errorf("read %v: the server closed the connection after %d of %d bytes", c.Peer(), got, n)
		}
		if err != nil {
			return buf[:got], err
		}
	}
	return buf, nil
}

// halfClose writes every line, shuts down its sending side (FIN) and then
// reads what the server sends until it closes: the server may answer after
// the client's FIN, and does, when it waits for the end of the input.
func halfClose(c *sock.Socket, lines []string, res *Result, out io.Writer) error {
	var sent bytes.Buffer
	for _, l := range lines {
		msg := []byte(l + "\n")
		start := time.Now()
		n, err := c.Write(msg)
		res.WriteTook += time.Since(start)
		res.Sent += n
		sent.Write(msg[:n])
		if err != nil {
			return err
		}
	}
	if err := c.Shutdown(sock.ShutWR); err != nil {
		return err
	}
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for got.Len() <= sent.Len() {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	res.Received = got.Len()
	out.Write(got.Bytes())
	if !bytes.Equal(got.Bytes(), sent.Bytes()) {
		return fmt.Errorf("echo from %v differs from what was sent (%d bytes back of %d)", c.Peer(), got.Len(), sent.Len())
	}
	return nil
}

// bulk sends size bytes and reads the echo back at the same time. Reading
// concurrently is not optional: if the client wrote everything before
// reading, the server's echoes would fill the client's receive buffer, the
// server would block in write, stop reading, and both would wait for ever.
// With shut set it half-closes after the write (FIN: "I have sent
// everything"), as a bulk sender does; without, it leaves closing to the
// caller (an abortive close follows).
func bulk(c *sock.Socket, size int, shut bool, res *Result, out io.Writer) error {
	data := Pattern(size)
	type wres struct {
		n   int
		d   time.Duration
		err error
	}
	wdone := make(chan wres, 1)
	go func() {
		start := time.Now()
		n, err := c.Write(data)
		d := time.Since(start)
		if err == nil && shut {
			err = c.Shutdown(sock.ShutWR) // FIN: "I have sent everything"
		}
		wdone <- wres{n, d, err}
	}()
	back, rerr := readN(c, size)
	w := <-wdone
	res.Sent, res.WriteTook, res.Received = w.n, w.d, len(back)
	if w.err != nil {
		return w.err
	}
	if rerr != nil {
		return rerr
	}
	if !bytes.Equal(back, data) {
		return fmt.Errorf("echo from %v differs from what was sent", c.Peer())
	}
	fmt.Fprintf(out, "sent %d byte%s, got %d byte%s back (write took %v)\n", w.n, plural(w.n), len(back), plural(len(back)), w.d.Round(time.Millisecond))
	return nil
}

// Pattern returns n bytes of recognisable bulk data: the printable ASCII
// characters over and over, so a packet dump shows readable payload.
func Pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(' ' + i%95)
	}
	return b
}

// SplitAddr splits "host:port" (IPv6 hosts in brackets) and checks the port.
func SplitAddr(addr string) (host string, port uint16, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("bad address %q: want host:port, e.g. 127.0.0.1:7000 or [::1]:7000", addr)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || h == "" {
		return "", 0, fmt.Errorf("bad address %q: want host:port with a port from 0 to 65535", addr)
	}
	return h, uint16(n), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
