package httpref

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// ClientConfig says what to fetch and where the result goes.
type ClientConfig struct {
	// URL is what to fetch: "http://host[:port]/path[?query]".
	URL string
	// Method is "GET" (the default) or "HEAD".
	Method string
	// Trace receives every socket call the client makes (nil: none).
	Trace sock.Tracer
	// Out receives the status line, the header fields, an empty line and
	// the body (nil: discarded).
	Out io.Writer
	// Timeout bounds each blocking call (connect, each read and write);
	// 0 means 10s.
	Timeout time.Duration
	// MaxBody is the largest body accepted; 0 means 16 MiB.
	MaxBody int64

	// The choices below make the lecture's scenarios; a plain fetch leaves
	// them unset.

	// RcvBuf, when > 0, sets SO_RCVBUF before connect: a small receive
	// window, for flow control to show.
	RcvBuf int
	// MaxSeg, when > 0, sets TCP_MAXSEG before connect: the SYN advertises
	// it, so the server's segments are no larger.
	MaxSeg int
	// SlowReader, when > 0, is how long the client waits after sending the
	// request before it reads the response: a large response fills its
	// receive window (zero window, window probes, then a window update).
	SlowReader time.Duration
	// HalfClose makes the client shutdown(SHUT_WR) right after the request
	// (FIN: "no more requests") and read the response after that, while the
	// server, in CLOSE-WAIT, still sends.
	HalfClose bool
	// Reset makes the client end with an abortive close (SO_LINGER {1, 0})
	// once it has the response: RST instead of its FIN.
	Reset bool
	// Connected, when set, is called once the connection is established,
	// before the request is sent (the demo starts several clients' requests
	// together with it).
	Connected func()
}

// target is a parsed http:// URL.
type target struct {
	host     string // name or address, without brackets
	port     uint16
	hostHdr  string // Host header value: host[:port] as written
	path     string // request target: "/path?query"
	original string
}

// parseURL accepts http:// URLs only and says plainly why anything else is
// refused.
func parseURL(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("bad URL %q: %v", raw, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
	case "https":
		return target{}, fmt.Errorf("%s: https is not supported: this teaching client speaks plain HTTP over TCP, without TLS; use an http:// URL", raw)
	case "":
		return target{}, fmt.Errorf("bad URL %q: want http://host[:port]/path", raw)
	default:
		return target{}, fmt.Errorf("%s: unsupported scheme %q: only http:// is supported", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return target{}, fmt.Errorf("bad URL %q: no host", raw)
	}
	if u.User != nil {
		return target{}, fmt.Errorf("%s: user information in URLs is not supported", raw)
	}
	port := uint64(80)
	if p := u.Port(); p != "" {
		if port, err = strconv.ParseUint(p, 10, 16); err != nil {
			return target{}, fmt.Errorf("bad URL %q: bad port %q", raw, p)
		}
	}
	return target{host: u.Hostname(), port: uint16(port), hostHdr: u.Host, path: u.RequestURI(), original: raw}, nil
}

// Fetch requests one URL over a fresh connection and reads the whole
// response: resolve and connect, one write with the request, reads until
// the body is complete, close. It prints the response to cfg.Out and
// returns it. Cancelling ctx closes the socket and ends the fetch.
func Fetch(ctx context.Context, cfg ClientConfig) (*Response, error) {
	t, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	method := cfg.Method
	if method == "" {
		method = "GET"
	}
	if method != "GET" && method != "HEAD" {
		return nil, fmt.Errorf("method %s: only GET and HEAD are supported", method)
	}
	timeout, maxBody := cfg.Timeout, cfg.MaxBody
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if maxBody <= 0 {
		maxBody = 16 << 20
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}

	who := sock.Caller{Who: "client", Trace: cfg.Trace}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	var prepare func(*sock.Socket) error
	if cfg.RcvBuf > 0 || cfg.MaxSeg > 0 {
		prepare = func(s *sock.Socket) error {
			if cfg.RcvBuf > 0 {
				if err := s.SetRcvBuf(cfg.RcvBuf); err != nil {
					return err
				}
			}
			if cfg.MaxSeg > 0 {
				return s.SetMaxSeg(cfg.MaxSeg)
			}
			return nil
		}
	}
	c, err := who.DialTCPWith(dctx, t.host, t.port, prepare)
	cancel()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	c.SetTimeout(timeout)
	if cfg.Connected != nil {
		cfg.Connected()
	}

	// The request goes out in one write: request line, headers, empty line.
	req := method + " " + t.path + " HTTP/1.1\r\n" +
		"Host: " + t.hostHdr + "\r\n" +
		"User-Agent: tcpscope-ref\r\n" +
		"Accept: */*\r\n" +
		"Connection: close\r\n" +
		"\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return nil, withCtx(ctx, err)
	}
	if cfg.HalfClose {
		if err := c.Shutdown(sock.ShutWR); err != nil {
			return nil, withCtx(ctx, err)
		}
	}
	if cfg.SlowReader > 0 {
		select {
		case <-time.After(cfg.SlowReader):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	br := bufio.NewReaderSize(c, 4096)
	resp, err := ReadResponse(br, method, maxBody)
	if err != nil {
		if resp != nil {
			printResponse(out, resp)
		}
		return resp, fmt.Errorf("%s: %w", t.original, withCtx(ctx, err))
	}
	printResponse(out, resp)
	// The request said Connection: close, so the server closes after the
	// response: read on to that end of file (a read that returns 0)
	// before closing, as browsers and curl do. Closing as soon as the body
	// is complete races the server's own close: both FINs cross (a
	// simultaneous close, FIN-WAIT-1 then CLOSING on both sides), and
	// which FIN a capture shows first is luck, a poor thing to show a
	// class. A server that keeps the connection open is waited for
	// drainWait at most.
	c.SetTimeout(min(timeout, drainWait))
	var rest [512]byte
	for {
		if _, err := br.Read(rest[:]); err != nil {
			break
		}
	}
	c.SetTimeout(timeout)
	if cfg.Reset {
		if err := c.SetLingerReset(); err != nil {
			return resp, err
		}
	}
	return resp, nil
}

// drainWait bounds the wait for the server's end of file after a complete
// response (see Fetch).
const drainWait = time.Second

// withCtx prefers the context's reason when it was cancelled.
func withCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// printResponse shows a response as it came: status line, headers, empty
// line, body.
func printResponse(w io.Writer, r *Response) {
	fmt.Fprintln(w, r.StatusLine())
	for _, f := range r.Header {
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintln(w)
	w.Write(r.Body)
}
