package demo

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/tcpscope/tcpscope/ref/httpref"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// page is what the demo's HTTP server serves: small enough to read on the
// slide, big enough to need more than one segment with --loss.
const page = `<!doctype html>
<title>tcpscope</title>
<h1>Hello from the reference HTTP server</h1>
<p>This page travelled over TCP: a SYN, a SYN-ACK, an ACK, then the request,
the response and a FIN each way.</p>
`

// httpScenario starts the reference HTTP server over a temporary directory
// and returns a client run that GETs its index page.
func httpScenario(host netip.Addr, trace sock.Tracer, logw, out io.Writer, o Options) (*httpref.Server, func(context.Context, netip.AddrPort) error, error) {
	dir, err := os.MkdirTemp("", "tcpscope-demo-http-")
	if err != nil {
		return nil, nil, err
	}
	body := page
	if o.LossPct > 0 || o.SlowReader {
		// A bigger file so loss and flow control have segments to act on.
		big := make([]byte, 0, 256<<10)
		for len(big) < 256<<10 {
			big = append(big, "network byte order is big-endian; the first byte on the wire is the most significant.\n"...)
		}
		body += string(big)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644); err != nil {
		return nil, nil, err
	}
	s, err := httpref.Listen(httpref.ServerConfig{Addr: netip.AddrPortFrom(host, 0), Root: dir, Trace: trace, MaxConns: 1})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	run := func(ctx context.Context, addr netip.AddrPort) error {
		defer os.RemoveAll(dir)
		_, err := httpref.Fetch(ctx, httpref.ClientConfig{URL: fmt.Sprintf("http://%s/index.html", addr), Trace: trace, Out: out})
		return err
	}
	return s, run, nil
}
