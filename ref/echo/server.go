package echo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// ServerConfig says how the echo server listens and behaves.
type ServerConfig struct {
	// Addr is where to listen; the zero value means 127.0.0.1:0 (a port
	// chosen by the kernel; Server.Addr tells which).
	Addr netip.AddrPort
	// Trace receives every socket call the server makes (nil: none).
	Trace sock.Tracer
	// Log receives one line for each connection that ended in an error
	// (nil: discarded). The server carries on with the next client.
	Log io.Writer
	// MaxConns, when > 0, makes Serve return after handling that many
	// connections.
	MaxConns int
	// SlowReader, when > 0, makes the server wait this long after accepting
	// a connection before its first read, so a fast sender fills the
	// receive window (zero window, probes, then a window update).
	SlowReader time.Duration
	// RcvBuf, when > 0, sets SO_RCVBUF on the listening socket before
	// listen. With SlowReader and RcvBuf 0, 4096 is used so the window is
	// small enough to fill quickly.
	RcvBuf int
	// SndBuf, when > 0, sets SO_SNDBUF on the listening socket. With
	// SlowReader and SndBuf 0, SlowReaderSndBuf is used (see there).
	SndBuf int
	// Reset makes the server end each connection right after its first echo
	// with an abortive close (SO_LINGER {1, 0}): RST instead of FIN.
	Reset bool
	// ExpectReset: clients end with a reset on purpose (the demo's
	// --reset), so a connection that ends in ECONNRESET is not logged as a
	// failure; the read that returned it is still traced.
	ExpectReset bool
	// AnswerAtEOF makes the server read until the client half-closes
	// (shutdown(SHUT_WR): read returns 0) and only then echo what it got,
	// one write per read, before it closes: the pattern of a server that
	// needs the whole input before it answers (sort, a compiler service).
	// The client's FIN comes first and the server's data after it: the
	// server's side is in CLOSE-WAIT while it sends. At most MaxAnswer
	// bytes are held; a client that sends more is cut off.
	AnswerAtEOF bool
	// MaxSeg, when > 0, sets TCP_MAXSEG on the listening socket: the
	// server's SYN-ACK advertises it and its segments are no larger.
	MaxSeg int
	// BufSize is the size of each read; 0 means 4096. It bounds what one
	// read takes in, so there is no line-length limit to set: the server
	// never holds more than one read's worth of a client's data.
	BufSize int
	// IdleTimeout closes a connection whose client has sent nothing (or,
	// while the server writes, read nothing) for this long, so that an
	// idle client cannot hold the iterative server and the clients queued
	// behind it for ever. 0 means DefaultIdleTimeout; negative, no limit.
	IdleTimeout time.Duration
	// MaxSession closes a connection this long after it was accepted,
	// however busy: the iterative server's fairness limit. A time limit,
	// not a byte limit, because what it protects is the next client's
	// wait, and a client dribbling one byte just inside IdleTimeout would
	// pass any byte limit for hours. 0 means DefaultMaxSession; negative,
	// no limit.
	MaxSession time.Duration
}

// The server's default limits: generous for a lecture (a student typing
// lines into the client, a bulk transfer of megabytes), but finite.
const (
	DefaultIdleTimeout = 30 * time.Second
	DefaultMaxSession  = 5 * time.Minute
)

// MaxAnswer bounds what an AnswerAtEOF server holds for one client.
const MaxAnswer = 1 << 20

// LimitError says why the server closed a connection it had not finished:
// the client was idle too long, or its session reached MaxSession.
type LimitError struct {
	Peer   netip.AddrPort
	Reason string // "idle for 30s", "session limit of 5m0s reached"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %s: closed the connection to serve the next client", e.Peer, e.Reason)
}

// Server is a listening echo server.
type Server struct {
	cfg  ServerConfig
	who  sock.Caller
	ln   *sock.Socket
	addr netip.AddrPort
}

// SlowReaderSndBuf is the send buffer a slow reader's server asks for, so
// that its write of an echo returns at once and its loop goes back to read.
// Linux caps it at net.core.wmem_max (208 KiB by default) and doubles it:
// 416 KiB on a default system, which holds the echo of the demo's 64 KiB
// bulk write sent in 300-byte segments (256 KiB was enough, measured),
// though not in the smallest (88-byte) ones unless wmem_max is raised.
//
// Why it matters: with a 4 KiB receive buffer, a server whose write blocks
// stops reading, and its window closes with data queued. Linux (since 2025;
// 6.18 here) then drops whole any segment reaching past that zero window
// (drop reason TCP_INVALID_END_SEQUENCE), the ACK it carries included.
// Once the client has sent a few bytes the window no longer covers (a
// segment the full buffer had no room for), every segment it sends does,
// so the server never learns that its echo arrived, and its write never
// returns: both ends wait until the server's idle limit. Seen as the demo's
// "client 2: write: broken pipe" with --slow-reader --loss 10 --mss 300
// about once in 150 runs; TestSlowReaderKeepsReading.
const SlowReaderSndBuf = 1 << 20

// Listen opens the listening socket (socket, setsockopt, bind, listen,
// getsockname) so that the address is known, and can be shown, before any
// client is served. A busy port fails here:
// "listen 127.0.0.1:7000: address already in use".
func Listen(cfg ServerConfig) (*Server, error) {
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddrPort("127.0.0.1:0")
	}
	if cfg.SlowReader > 0 && cfg.RcvBuf == 0 {
		cfg.RcvBuf = 4096
	}
	if cfg.SlowReader > 0 && cfg.SndBuf == 0 {
		cfg.SndBuf = SlowReaderSndBuf
	}
	if cfg.BufSize <= 0 {
		cfg.BufSize = 4096
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSession == 0 {
		cfg.MaxSession = DefaultMaxSession
	}
	who := sock.Caller{Who: "server", Trace: cfg.Trace}
	ln, addr, err := who.ListenTCP(cfg.Addr, sock.ListenConfig{ReuseAddr: true, RcvBuf: cfg.RcvBuf, SndBuf: cfg.SndBuf, MaxSeg: cfg.MaxSeg})
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, who: who, ln: ln, addr: addr}, nil
}

// Addr is the address the server listens on, as getsockname reported it.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Close closes the listening socket; a Serve blocked in accept returns nil.
// Closing twice is harmless.
func (s *Server) Close() error {
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Serve is the iterative server loop: accept a client, echo until it is
// done, close, accept the next. It returns nil when ctx is cancelled, Close
// is called or MaxConns connections have been handled (the listening socket
// is closed then), and an error only if accept itself fails. A connection
// that ends in an error (a reset, say) is reported to Log and does not stop
// the server.
func (s *Server) Serve(ctx context.Context) error {
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.ln.Close() })
	defer stop()
	for handled := 0; s.cfg.MaxConns <= 0 || handled < s.cfg.MaxConns; handled++ {
		conn, _, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		err = s.handle(ctx, conn)
		if s.cfg.ExpectReset && errors.Is(err, syscall.ECONNRESET) {
			err = nil
		}
		if err != nil && ctx.Err() == nil && s.cfg.Log != nil {
			fmt.Fprintf(s.cfg.Log, "echo server: %v\n", err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// handle echoes one connection until EOF. The read loop copes with short
// reads by design: it writes back exactly what each read returned, however
// little, and reads again. IdleTimeout and MaxSession bound every read and
// write (a timeout on the socket, so a blocked call ends); the connection
// is then closed normally (FIN) and a LimitError returned.
func (s *Server) handle(ctx context.Context, conn *sock.Socket) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var end time.Time
	if s.cfg.MaxSession > 0 {
		end = time.Now().Add(s.cfg.MaxSession)
	}
	// arm sets the socket timeout for the next call: the idle limit, or
	// what is left of the session if that is shorter.
	arm := func() {
		d := s.cfg.IdleTimeout
		if !end.IsZero() {
			left := max(time.Until(end), time.Millisecond)
			if d <= 0 || left < d {
				d = left
			}
		}
		conn.SetTimeout(max(d, 0))
	}
	limit := func(err error) error {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if !end.IsZero() && !time.Now().Before(end) {
			return &LimitError{Peer: conn.Peer(), Reason: fmt.Sprintf("session limit of %v reached", s.cfg.MaxSession)}
		}
		return &LimitError{Peer: conn.Peer(), Reason: fmt.Sprintf("idle for %v", s.cfg.IdleTimeout)}
	}

	if s.cfg.SlowReader > 0 {
		select {
		case <-time.After(s.cfg.SlowReader):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	buf := make([]byte, s.cfg.BufSize)
	if s.cfg.AnswerAtEOF {
		return s.answerAtEOF(conn, buf, arm, limit)
	}
	for {
		arm()
		n, err := conn.Read(buf)
		if err == io.EOF {
			return nil // the client sent FIN: we are done, close our side too
		}
		if err != nil {
			return limit(err)
		}
		arm()
		if _, err := conn.Write(buf[:n]); err != nil {
			return limit(err)
		}
		if s.cfg.Reset {
			// Abortive close: the deferred Close now sends RST, not FIN.
			return conn.SetLingerReset()
		}
	}
}

// answerAtEOF reads until the client's FIN, keeping each read's bytes, then
// writes them back one write per read.
func (s *Server) answerAtEOF(conn *sock.Socket, buf []byte, arm func(), limit func(error) error) error {
	var got [][]byte
	held := 0
	for {
		arm()
		n, err := conn.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return limit(err)
		}
		if held += n; held > MaxAnswer {
			return fmt.Errorf("%v sent more than %d bytes before half-closing: cut off", conn.Peer(), MaxAnswer)
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
	for _, b := range got {
		arm()
		if _, err := conn.Write(b); err != nil {
			return limit(err)
		}
	}
	if s.cfg.Reset {
		return conn.SetLingerReset()
	}
	return nil
}
