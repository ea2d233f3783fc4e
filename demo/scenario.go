package demo

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/ref/echo"
	"github.com/tcpscope/tcpscope/ref/httpref"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// Limits of the options, checked by Check.
const (
	MinMSS, MaxMSS = 88, 65483 // TCP_MAXSEG's range on Linux (TCP_MIN_MSS; 64 KiB less headers)
	MaxClients     = 8
)

// slowFor is how long a slow reader waits before it reads.
const slowFor = 1500 * time.Millisecond

// Check says whether the options make a demo: nil, or an error whose text
// is one line saying what to change (a usage error: exit 2). Every option
// combines with every other but --half-close with --reset (see below); else
// only values out of range are refused.
func Check(o Options) error {
	switch o.Scenario {
	case "", "basic", "http":
	default:
		return fmt.Errorf("unknown demo %q: choose basic or http", o.Scenario)
	}
	if o.LossPct < 0 || o.LossPct > 90 {
		return fmt.Errorf("--loss must be between 0 and 90 percent")
	}
	if o.MSS != 0 && (o.MSS < MinMSS || o.MSS > MaxMSS) {
		return fmt.Errorf("--mss %d: the kernel takes a TCP_MAXSEG from %d to %d bytes", o.MSS, MinMSS, MaxMSS)
	}
	if o.Clients < 0 || o.Clients > MaxClients {
		return fmt.Errorf("--clients %d: from 1 to %d clients", o.Clients, MaxClients)
	}
	if o.HalfClose && o.Reset {
		// A client that has sent its FIN ends by reading the server's;
		// the connection, closed by both FINs, is then in TIME-WAIT, and
		// an abortive close sends nothing. An RST would need the client
		// to abort before the server's FIN, a race the demo cannot win
		// every time.
		return fmt.Errorf("--half-close and --reset cannot be combined: after both FINs (the half-closed client reads until the server's) there is nothing left for an abortive close to reset, so no RST would be sent")
	}
	if o.HostLoopback && o.LossPct > 0 {
		return fmt.Errorf("--loss needs the demo's private network namespace (Linux): its nftables rules are never put on this machine's own loopback")
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("--port %d: a port is from 1 to 65535 (0: the kernel chooses, the default)", o.Port)
	}
	return nil
}

// server is what both scenarios' servers offer the demo.
type server interface {
	Addr() netip.AddrPort
	Serve(context.Context) error
	Close() error
}

// scenario is a server listening and the client run that talks to it;
// clientRun is called once per client (--clients), concurrently, and calls
// connected once its connection is established.
type scenario struct {
	srv       server
	clientRun func(ctx context.Context, addr netip.AddrPort, connected func()) error
	cleanup   func()
}

// barrier holds clients until all of them have arrived (or given up), so
// that with --clients every connection is established before any sends:
// the iterative echo server is then busy with the first while the kernel
// holds the others, handshake complete, in the listen backlog.
type barrier struct {
	mu   sync.Mutex
	left int
	all  chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{left: n, all: make(chan struct{})} }

// arrive counts one client in; the last one releases everybody.
func (b *barrier) arrive() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left--; b.left == 0 {
		close(b.all)
	}
}

// wait blocks until all have arrived or ctx ends.
func (b *barrier) wait(ctx context.Context) {
	select {
	case <-b.all:
	case <-ctx.Done():
	}
}

// filler returns at least n bytes of readable text, for writes that must
// be larger than a segment or a window.
func filler(n int) string {
	const line = "network byte order is big-endian; the first byte on the wire is the most significant.\n"
	return strings.Repeat(line, (n+len(line)-1)/len(line))
}

// basicScenario is the echo server and its client. The client's lines are
// the lecture's; the options change what it sends and how it ends:
//
//   - --slow-reader, --loss: one bulk write (64 KiB against a 4 KiB
//     receive buffer; 256 KiB through the lossy link), echoed back.
//   - --mss N: a third line three and a half segments long, so one write
//     leaves as several segments.
//   - --half-close: all lines at once, then shutdown(SHUT_WR); the server
//     answers only at EOF, so its data follows the client's FIN.
//   - --reset: the client's close is abortive (RST); the server's read
//     that gets ECONNRESET is expected, not an error.
func basicScenario(host netip.Addr, trace sock.Tracer, logw io.Writer, o Options) (*scenario, error) {
	cfg := echo.ServerConfig{Addr: netip.AddrPortFrom(host, uint16(o.Port)), Trace: trace, MaxConns: o.clients(), Log: logw,
		ExpectReset: o.Reset, AnswerAtEOF: o.HalfClose, MaxSeg: o.MSS}
	if o.SlowReader {
		cfg.SlowReader = slowFor
	}
	s, err := echo.Listen(cfg)
	if err != nil {
		return nil, err
	}
	run := func(ctx context.Context, addr netip.AddrPort, connected func()) error {
		cc := echo.ClientConfig{Addr: addr.String(), Trace: trace, Reset: o.Reset, HalfClose: o.HalfClose, MaxSeg: o.MSS, Connected: connected,
			Lines: []string{"hello, TCP", "network byte order is big-endian"}}
		switch {
		case o.SlowReader:
			cc.Lines, cc.Bulk, cc.SndBuf = nil, 64<<10, 16<<10
		case o.LossPct > 0:
			cc.Lines, cc.Bulk = nil, 256<<10
		case o.MSS > 0:
			n := min(o.MSS*7/2, 60000)
			cc.Lines = append(cc.Lines, strings.TrimSuffix(filler(n)[:n], "\n"))
		}
		_, err := echo.RunClient(ctx, cc)
		return err
	}
	return &scenario{srv: s, clientRun: run, cleanup: func() {}}, nil
}

// page is what the demo's HTTP server serves: small enough to read on the
// slide.
const indexPage = `<!doctype html>
<title>tcpscope</title>
<h1>Hello from the reference HTTP server</h1>
<p>This page travelled over TCP: a SYN, a SYN-ACK, an ACK, then the request,
the response and a FIN each way.</p>
`

// httpScenario starts the reference HTTP server over a directory of its
// own (under dir) and returns a client run that GETs its index page. The
// server serves clients concurrently (one goroutine each), unlike the
// iterative echo server: with --clients the handshakes and responses
// interleave. The options:
//
//   - --loss, --slow-reader, --half-close: the page grows to 256 KiB, so
//     loss and flow control have segments to act on, and a half-closed
//     client's receive window makes the server send most of it after the
//     client's FIN (the client reads only after its shutdown).
//   - --slow-reader: the client, the side that receives the bulk here,
//     has a 4 KiB receive buffer and waits before reading.
//   - --mss N: the page is at least three and a half segments long.
//   - --reset: the client closes abortively once it has the response.
func httpScenario(host netip.Addr, dir string, trace sock.Tracer, o Options) (*scenario, error) {
	root, err := os.MkdirTemp(dir, "http-root-")
	if err != nil {
		return nil, fmt.Errorf("demo http: a directory for the page: %v", err)
	}
	cleanup := func() { os.RemoveAll(root) }
	body := indexPage
	if o.LossPct > 0 || o.SlowReader || o.HalfClose {
		body += filler(256 << 10)
	} else if o.MSS > 0 && len(body) < o.MSS*7/2 {
		body += filler(o.MSS*7/2 - len(body))
	}
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(body), 0o644); err != nil {
		cleanup()
		return nil, err
	}
	// Both peers give up on a connection that makes no progress for a
	// while (5 s for the server, 10 s for each of the client's calls). With
	// --loss, TCP's retransmission timer doubles at each loss of the same
	// segment (0.2, 0.4, 0.8, 1.6, 3.2 s …), and a run now and then loses
	// one five times: the peers wait as long as the echo scenario's.
	var stall time.Duration
	if o.LossPct > 0 {
		stall = 30 * time.Second
	}
	s, err := httpref.Listen(httpref.ServerConfig{Addr: netip.AddrPortFrom(host, uint16(o.Port)), Root: root, Trace: trace,
		MaxConns: o.clients(), MaxSeg: o.MSS, IdleTimeout: stall})
	if err != nil {
		cleanup()
		return nil, err
	}
	run := func(ctx context.Context, addr netip.AddrPort, connected func()) error {
		cc := httpref.ClientConfig{URL: fmt.Sprintf("http://%s/index.html", addr), Trace: trace, Connected: connected,
			MaxSeg: o.MSS, HalfClose: o.HalfClose, Reset: o.Reset, Timeout: stall}
		if o.SlowReader {
			cc.RcvBuf, cc.SlowReader = 4096, slowFor
		}
		_, err := httpref.Fetch(ctx, cc)
		return err
	}
	return &scenario{srv: s, clientRun: run, cleanup: cleanup}, nil
}
