// Package demo runs the lecture demo: the reference server and client talk
// over loopback while the traffic is captured, then the session is printed
// with each socket call placed among the segments it caused.
//
// The caller is expected to run it inside a private network namespace (see
// NamespacedCommand), where the demo owns loopback and may drop packets at
// random with nftables. Output goes to the injected writers only.
package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/explain"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/ref/echo"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

// Options choose the scenario.
type Options struct {
	Scenario   string // "basic" (echo) or "http"
	LossPct    int    // drop this % of packets at random (nftables)
	SlowReader bool   // the server waits before reading: zero window, probes, window update
	Reset      bool   // the client ends with an abortive close: RST
	IPv6       bool   // use [::1] instead of 127.0.0.1
	JSON       bool   // segments and socket calls as JSON lines on stdout, everything else on stderr
	StrSize    int    // bytes of a read's or write's data shown (strace's -s); 0: 32
	Color      bool
	Explain    bool      // show every header field under each segment (tcpscope decode's view)
	Step       bool      // wait for Enter before each event
	Keys       io.Reader // where Step reads Enter from
	Output     string    // capture file to write; "" = a new file in the temp directory
	Force      bool      // replace an existing Output (never a symlink: see internal/safefile)
}

// event is one line of the timeline: a socket call, or nothing (segments
// come from the capture).
type traceLog struct {
	mu     sync.Mutex
	events []sock.Event
	lines  []progLine // the student's programs' output (programs.go)
}

func (t *traceLog) add(e sock.Event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
}

// Run performs the demo and prints it. It returns the path of the capture
// file written.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (string, error) {
	if o.Scenario == "" {
		o.Scenario = "basic"
	}
	mtu := 0
	if o.LossPct > 0 {
		// Ethernet-sized segments, so a loss hits one segment, not a 64 KiB
		// GSO super-packet, and fast retransmission can show.
		mtu = 1500
	}
	if err := SetupLoopback(mtu); err != nil {
		return "", err
	}
	host := netip.MustParseAddr("127.0.0.1")
	if o.IPv6 {
		host = netip.IPv6Loopback()
	}
	trace := &traceLog{}

	// 1. The server's listening socket first, so its port is known.
	var srv interface {
		Addr() netip.AddrPort
		Serve(context.Context) error
		Close() error
	}
	var clientRun func(ctx context.Context, addr netip.AddrPort) error
	clientOut := io.Discard
	switch o.Scenario {
	case "basic":
		cfg := echo.ServerConfig{Addr: netip.AddrPortFrom(host, 0), Trace: trace.add, MaxConns: 1, Log: stderr}
		if o.SlowReader {
			cfg.SlowReader = 1500 * time.Millisecond
		}
		s, err := echo.Listen(cfg)
		if err != nil {
			return "", err
		}
		srv = s
		clientRun = func(ctx context.Context, addr netip.AddrPort) error {
			cc := echo.ClientConfig{Addr: addr.String(), Trace: trace.add, Out: clientOut, Reset: o.Reset,
				Lines: []string{"hello, TCP", "network byte order is big-endian"}}
			switch {
			case o.SlowReader:
				cc.Lines, cc.Bulk, cc.SndBuf = nil, 64<<10, 16<<10
			case o.LossPct > 0:
				cc.Lines, cc.Bulk = nil, 256<<10
			}
			_, err := echo.RunClient(ctx, cc)
			return err
		}
	case "http":
		s, run, err := httpScenario(host, trace.add, stderr, clientOut, o)
		if err != nil {
			return "", err
		}
		srv, clientRun = s, run
	default:
		return "", fmt.Errorf("demo: unknown scenario %q (basic or http)", o.Scenario)
	}
	defer srv.Close()
	port := srv.Addr().Port()
	if err := DropRandomly(port, o.LossPct); err != nil {
		return "", err
	}

	// 2. Capture, filtered to the server's port.
	h, err := capture.Open(capture.Options{Interface: capture.Loopback(), Filter: fmt.Sprintf("tcp port %d", port), Immediate: true})
	if err != nil {
		return "", err
	}
	defer h.Close()
	path := o.Output
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("tcpscope-demo-%s-%s.pcapng", o.Scenario, time.Now().Format("20060102-150405")))
	}
	w, err := capture.Create(path, h.LinkType(), capture.DefaultSnaplen, o.Force)
	if err != nil {
		return "", err
	}
	capDone := make(chan error, 1)
	go func() {
		tee := &capture.Tee{Src: h, W: w}
		var err error
		for err == nil {
			_, err = tee.Next()
		}
		if errors.Is(err, io.EOF) {
			err = tee.Err
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		capDone <- err
	}()

	// 3. The exchange: server and client as in the lecture.
	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(runCtx) }()
	clientErr := clientRun(runCtx, srv.Addr())
	var srvErr error
	select {
	case srvErr = <-srvDone:
	case <-time.After(5 * time.Second):
		srv.Close()
		srvErr = <-srvDone
	}
	// Let the last ACKs and FINs reach the capture, then stop it.
	time.Sleep(300 * time.Millisecond)
	h.Stop()
	if err := <-capDone; err != nil {
		return path, err
	}
	if st, err := h.Stats(); err == nil && st.Dropped+st.IfDropped > 0 {
		fmt.Fprintf(stderr, "tcpscope demo: warning: the kernel dropped %d packets before the capture saw them; the timeline has gaps\n", st.Dropped+st.IfDropped)
	}
	if clientErr != nil && !o.Reset {
		fmt.Fprintf(stderr, "tcpscope demo: client: %v\n", clientErr)
	}
	if srvErr != nil {
		fmt.Fprintf(stderr, "tcpscope demo: server: %v\n", srvErr)
	}

	// 4. The timeline: the capture read back, socket calls slotted in by time.
	return path, printTimeline(ctx, path, trace.events, o, stdout, stderr)
}

// printTimeline renders the capture with socket calls interleaved in time
// order: a call is printed before the first segment captured after it
// returned.
func printTimeline(ctx context.Context, path string, events []sock.Event, o Options, stdout, stderr io.Writer) error {
	sort.SliceStable(events, func(i, j int) bool { return placeAt(events[i]).Before(placeAt(events[j])) })
	f, err := replay.Open(path, nil)
	if err != nil {
		return err
	}
	defer f.Close()
	th := render.NewTheme(o.Color)
	an := analysis.New(analysis.Options{})
	pl := pipeline.New(f, an)
	strsize := o.StrSize
	if strsize <= 0 {
		strsize = sock.DefaultStrSize
	}
	text := &render.Text{W: stdout, Theme: th, StrSize: strsize}
	js := &render.JSON{W: stdout, StrSize: strsize}
	notes := newCallNotes()
	var keys *bufio.Reader
	if o.Step && o.Keys != nil {
		keys = bufio.NewReader(o.Keys)
	}
	pause := func() {
		if keys != nil {
			keys.ReadString('\n')
		}
	}
	var start time.Time
	if len(events) > 0 {
		start = events[0].Time
	}
	text.Start, js.Start = start, start
	printCall := func(e sock.Event) error {
		pause()
		note := notes.note(e)
		if o.JSON {
			return js.Call(e, placeAt(e), note, strsize)
		}
		var details []string
		if o.Explain {
			details = e.Details(sock.HostEndian())
		}
		return text.Call(e, placeAt(e), note, details)
	}
	next := 0
	var it pipeline.Item
	first := true
	for {
		if err := pl.Next(&it); err != nil {
			if !errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: %w", path, err)
			}
			break
		}
		m := it.Frame.Meta
		if first {
			if start.IsZero() || m.Time.Before(start) {
				start = m.Time
			}
			text.Start, js.Start, first = start, start, false
		}
		for next < len(events) && !placeAt(events[next]).After(m.Time) {
			if err := printCall(events[next]); err != nil {
				return err
			}
			next++
		}
		if it.Packet.TCP == nil {
			continue
		}
		notes.segment(m.Number, &it.Packet)
		pause()
		var r *analysis.Result
		if it.Analyzed {
			r = &it.Result
		}
		if o.JSON {
			err = js.Segment(m, &it.Packet, r)
		} else {
			err = text.Segment(m, &it.Packet, r)
			if err == nil && o.Explain {
				err = explain.Write(stdout, th, explain.MetaOf(&it), &it.Packet)
			}
		}
		if err != nil {
			return err
		}
	}
	for ; next < len(events); next++ {
		if err := printCall(events[next]); err != nil {
			return err
		}
	}
	sw := stdout
	if o.JSON {
		sw = stderr
	}
	render.Summary(sw, render.NewTheme(o.Color && !o.JSON), an.Summaries(), an.DroppedSegments())
	return nil
}

// placeAt is where a socket call goes on the timeline. A call that makes
// the kernel send (connect, write, close, shutdown) is placed when it
// started, before the segments it caused; a call that waits for the network
// (accept, read) is placed when it returned, after the segments it waited
// for. That is the order in which the lecture tells the story.
func placeAt(e sock.Event) time.Time {
	switch e.Kind() {
	case "accept", "read", "getaddrinfo":
		return e.Time
	}
	return e.Time.Add(-e.Took)
}
