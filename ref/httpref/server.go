package httpref

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// ServerConfig says where the file server listens and what it serves.
type ServerConfig struct {
	// Addr is where to listen; the zero value means 127.0.0.1:0.
	Addr netip.AddrPort
	// Root is the directory whose files are served. Required.
	Root string
	// Trace receives every socket call the server makes (nil: none).
	Trace sock.Tracer
	// Log receives one access-log line per request and one line per
	// connection that failed (nil: discarded).
	Log io.Writer
	// MaxConns, when > 0, makes Serve stop accepting after that many
	// connections and return once they are done.
	MaxConns int
	// IdleTimeout is how long a kept-alive connection may wait for its next
	// request (and how long any single read or write may block); 0 means 5s.
	IdleTimeout time.Duration
	// RequestTimeout is how long a client may take to send a whole request
	// head (request line and headers), however steadily it trickles bytes;
	// 0 means 10s. The per-read IdleTimeout alone cannot stop a slowloris
	// client that sends one byte every few seconds.
	RequestTimeout time.Duration
	// MaxSeg, when > 0, sets TCP_MAXSEG on the listening socket: the
	// server's SYN-ACK advertises it and its segments are no larger.
	MaxSeg int
	// MaxClients is how many connections are served at once; 0 means 64.
	// One more is answered "503 Service Unavailable" and closed at once, so
	// a crowd of idle clients cannot exhaust the server's goroutines and
	// descriptors while the ones already in are served.
	MaxClients int
}

// Server is a listening file server.
type Server struct {
	cfg  ServerConfig
	ln   *sock.Socket
	addr netip.AddrPort
	logs sync.Mutex // one log line at a time from the connection goroutines
}

// Listen checks the root directory and opens the listening socket, so the
// address is known before anything is served. A busy port fails here:
// "listen 127.0.0.1:8080: address already in use".
func Listen(cfg ServerConfig) (*Server, error) {
	if cfg.Root == "" {
		return nil, errors.New("http server: no root directory given")
	}
	if fi, err := os.Stat(cfg.Root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("http server: root %s is not a readable directory", cfg.Root)
	}
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddrPort("127.0.0.1:0")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 64
	}
	who := sock.Caller{Who: "server", Trace: cfg.Trace}
	ln, addr, err := who.ListenTCP(cfg.Addr, sock.ListenConfig{ReuseAddr: true, MaxSeg: cfg.MaxSeg})
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, ln: ln, addr: addr}, nil
}

// Addr is the address the server listens on, as getsockname reported it.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// URL is the server's base URL, "http://127.0.0.1:8080/".
func (s *Server) URL() string { return "http://" + s.addr.String() + "/" }

// Close closes the listening socket; Serve then stops accepting, closes the
// connections in progress and returns nil. Closing twice is harmless.
func (s *Server) Close() error {
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Log == nil {
		return
	}
	s.logs.Lock()
	fmt.Fprintf(s.cfg.Log, format+"\n", args...)
	s.logs.Unlock()
}

// Serve accepts connections and serves each on its own goroutine until ctx
// is cancelled or Close is called (connections in progress are closed), or
// until MaxConns connections were accepted (those are allowed to finish).
// It returns when every connection is done: nil, or accept's error.
func (s *Server) Serve(ctx context.Context) error {
	connCtx, abort := context.WithCancel(ctx)
	defer abort()
	stop := context.AfterFunc(ctx, func() { _ = s.ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer s.Close()
	slots := make(chan struct{}, s.cfg.MaxClients)
	for accepted := 0; s.cfg.MaxConns <= 0 || accepted < s.cfg.MaxConns; accepted++ {
		conn, peer, err := s.ln.Accept()
		if err != nil {
			abort() // Close or ctx: stop the connections too
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		select {
		case slots <- struct{}{}:
		default:
			// Full: say so without reading the request, and close. The
			// short write cannot block long (IdleTimeout bounds it).
			s.logf("%v refused: %d clients already connected", peer, s.cfg.MaxClients)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.refuse(conn)
			}()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.serveConn(connCtx, conn, peer)
		}()
	}
	return nil
}

// refuse answers 503 to a client over the MaxClients limit. It sends FIN
// after the response and drains briefly what the client already sent
// (bounded in bytes and time): closing with unread data would send a RST
// that can destroy the 503 before the client reads it.
func (s *Server) refuse(conn *sock.Socket) {
	defer conn.Close()
	conn.SetTimeout(200 * time.Millisecond)
	_ = s.send(conn, "HTTP/1.1", "", errorReply(503, "too many clients, try again later"))
	_ = conn.Shutdown(sock.ShutWR)
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, 16<<10))
}

// serveConn answers requests on one connection until the client closes it,
// asks to close it, or a response requires closing.
func (s *Server) serveConn(ctx context.Context, conn *sock.Socket, peer netip.AddrPort) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	conn.SetTimeout(s.cfg.IdleTimeout)
	br := bufio.NewReaderSize(conn, 4096)
	for {
		// The whole request head must arrive within RequestTimeout: closing
		// the socket makes the blocked read return net.ErrClosed.
		var slow atomic.Bool
		cut := time.AfterFunc(s.cfg.RequestTimeout, func() { slow.Store(true); _ = conn.Close() })
		req, err := ReadRequest(br)
		cut.Stop()
		if slow.Load() {
			s.logf("%v cut off: request head not complete after %v", peer, s.cfg.RequestTimeout)
			return
		}
		var pe *ParseError
		switch {
		case err == nil:
		case errors.As(err, &pe):
			s.logf("%v bad request: %v", peer, err)
			_ = s.send(conn, "HTTP/1.1", "", errorReply(400, pe.Msg))
			return
		case err == io.EOF, errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
			return // client done, server stopping, or idle too long
		default:
			s.logf("%v: %v", peer, err)
			return
		}
		keep, err := s.serveRequest(conn, br, req, peer)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.logf("%v: %v", peer, err)
			}
			return
		}
		if !keep {
			return
		}
	}
}

// wantsKeepAlive applies HTTP's default: HTTP/1.1 keeps the connection
// unless the client says "close"; HTTP/1.0 closes it unless the client says
// "keep-alive".
func wantsKeepAlive(req *Request) bool {
	if req.Proto == "HTTP/1.0" {
		return req.Header.hasToken("Connection", "keep-alive")
	}
	return !req.Header.hasToken("Connection", "close")
}

// reply is a response about to be sent: a small body held in memory (for
// errors) or an open file.
type reply struct {
	status int
	ctype  string
	body   []byte
	file   *os.File
	extra  []Field // more header fields, such as Allow
	keep   bool    // keep the connection open afterwards
}

// errorReply is a short plain-text error response.
func errorReply(status int, msg string) reply {
	text := fmt.Sprintf("%d %s: %s\n", status, statusText(status), msg)
	return reply{status: status, ctype: "text/plain; charset=utf-8", body: []byte(text)}
}

// serveRequest answers one request; keep says whether the connection can
// carry another.
func (s *Server) serveRequest(conn *sock.Socket, br *bufio.Reader, req *Request, peer netip.AddrPort) (keep bool, err error) {
	r := s.decide(br, req)
	if r.file != nil {
		defer r.file.Close()
	}
	err = s.send(conn, req.Proto, req.Method, r)
	s.logf("%v \"%s %s %s\" %d", peer, req.Method, req.Target, req.Proto, r.status)
	return r.keep, err
}

// decide works out the response to a request.
func (s *Server) decide(br *bufio.Reader, req *Request) reply {
	keep := wantsKeepAlive(req)
	if msg := s.skipRequestBody(br, req); msg != "" {
		return errorReply(400, msg) // keep false: the rest of the body is unread
	}
	if req.Method != "GET" && req.Method != "HEAD" {
		// Any body the request has was not read: the connection cannot go on.
		r := errorReply(405, "this server only does GET and HEAD")
		r.extra = []Field{{"Allow", "GET, HEAD"}}
		return r
	}
	name, msg := cleanPath(req.Target)
	if msg != "" {
		return errorReply(400, msg) // a client that sends such a path gets no second try
	}
	f, fname, err := s.open(name)
	if err != nil {
		r := errorReply(404, req.Target)
		r.keep = keep
		return r
	}
	return reply{status: 200, ctype: contentType(fname), file: f, keep: keep}
}

// skipRequestBody reads and drops a small Content-Length request body so
// the next request on the connection starts where it should. A chunked or
// large body is refused (the message says why).
func (s *Server) skipRequestBody(br *bufio.Reader, req *Request) string {
	if len(req.Header.values("Transfer-Encoding")) > 0 {
		return "request bodies with Transfer-Encoding are not supported"
	}
	n, err := contentLength(req.Header)
	if err != nil {
		return err.Error()
	}
	if n <= 0 {
		return ""
	}
	if req.Method != "GET" && req.Method != "HEAD" {
		return "" // answered with 405 and a close: no need to read it
	}
	if n > 1<<20 {
		return "request body too large"
	}
	if _, err := io.CopyN(io.Discard, br, n); err != nil {
		return "request body cut short"
	}
	return ""
}

// cleanPath turns a request target into a file name relative to the root,
// or explains why it cannot: the target must be a path ("/..."), its
// percent-encoding valid, and no segment may be ".." — such a request is
// refused outright rather than quietly cleaned.
func cleanPath(target string) (name, problem string) {
	p, _, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(p, "/") {
		return "", "the request target must start with /"
	}
	p, err := url.PathUnescape(p)
	if err != nil {
		return "", "bad percent-encoding in path"
	}
	if strings.ContainsRune(p, 0) {
		return "", "NUL byte in path"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", "path leaves the document root"
		}
	}
	name = strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	return name, ""
}

// open opens a file under the root through os.Root, which also refuses
// symlinks that lead out of it; a directory means its index.html.
func (s *Server) open(name string) (*os.File, string, error) {
	root, err := os.OpenRoot(s.cfg.Root)
	if err != nil {
		return nil, "", err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, "", err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", err
	}
	if fi.IsDir() {
		f.Close()
		name = path.Join(name, "index.html")
		if f, err = root.Open(name); err != nil {
			return nil, "", err
		}
		if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, "", fs.ErrNotExist
		}
	} else if !fi.Mode().IsRegular() {
		f.Close()
		return nil, "", fs.ErrNotExist
	}
	return f, name, nil
}

// contentType maps a file extension to a media type. A fixed table keeps
// answers the same on every machine (mime.TypeByExtension reads the
// system's tables).
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".txt", ".text", ".md":
		return "text/plain; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".ico":
		return "image/x-icon"
	case ".pdf":
		return "application/pdf"
	case ".wasm":
		return "application/wasm"
	case ".pcap":
		return "application/vnd.tcpdump.pcap"
	}
	return "application/octet-stream"
}

// statusText is the reason phrase of a status code, as net/http names
// them (RFC 9110), so every status this server sends has its own ("503
// Service Unavailable", not "503 Unknown"); the framing stays hand-written,
// which is the point of this package, the table of phrases is not.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Status " + strconv.Itoa(code)
}

// send writes the status line, headers and body (none for HEAD, which
// still gets the Content-Length a GET would). Everything goes through one
// 32 KiB buffer, so a small response leaves in a single write(2) call.
func (s *Server) send(conn *sock.Socket, proto, method string, r reply) error {
	length := int64(len(r.body))
	if r.file != nil {
		fi, err := r.file.Stat()
		if err != nil {
			return err
		}
		length = fi.Size()
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", r.status, statusText(r.status))
	fmt.Fprintf(&head, "Date: %s\r\n", time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	head.WriteString("Server: tcpscope-ref\r\n")
	fmt.Fprintf(&head, "Content-Type: %s\r\n", r.ctype)
	fmt.Fprintf(&head, "Content-Length: %d\r\n", length)
	for _, f := range r.extra {
		fmt.Fprintf(&head, "%s: %s\r\n", f.Name, f.Value)
	}
	switch {
	case !r.keep:
		head.WriteString("Connection: close\r\n")
	case proto == "HTTP/1.0":
		head.WriteString("Connection: keep-alive\r\n")
	}
	head.WriteString("\r\n")

	w := bufio.NewWriterSize(conn, 32<<10)
	w.Write(head.Bytes())
	switch {
	case method == "HEAD":
	case r.file != nil:
		if _, err := io.Copy(w, r.file); err != nil {
			return err
		}
	default:
		w.Write(r.body)
	}
	return w.Flush()
}
