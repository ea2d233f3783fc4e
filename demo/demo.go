// Package demo runs the lecture demo: the reference server and client talk
// over loopback while the traffic is captured, then the session is printed
// with each socket call placed among the segments it caused.
//
// The caller is expected to run it inside a private network namespace (see
// NamespacedCommand), where the demo owns loopback and may drop packets at
// random with nftables. Output goes to the injected writers only.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

// Options choose the scenario.
type Options struct {
	Scenario   string // "basic" (echo) or "http"
	LossPct    int    // drop this % of packets at random (nftables)
	SlowReader bool   // the receiving side waits before reading: zero window, probes, window update
	Reset      bool   // the client ends with an abortive close: RST
	HalfClose  bool   // the client shutdown(SHUT_WR)s and reads on while the server sends
	MSS        int    // TCP_MAXSEG on both sides; 0: the kernel's
	Clients    int    // clients at once; 0 means 1
	Port       int    // the port the server binds; 0: the kernel chooses (getsockname tells)
	IPv6       bool   // use [::1] instead of 127.0.0.1
	// HostLoopback runs the peers on this machine's own loopback (no
	// private network namespace: macOS, FreeBSD, or --host-loopback), the
	// capture filtered to the server's port; nothing about the host's
	// loopback is changed, so --loss (nftables) is refused.
	HostLoopback bool
	JSON         bool // segments and socket calls as JSON lines on stdout, everything else on stderr
	StrSize      int  // bytes of a read's or write's data shown (strace's -s); 0: 32
	Color        bool
	// Width is the terminal's width for the compact segment layout (see
	// render.Text.Width; 0: full lines), ASCII spells → ▸ µ in ASCII.
	Width   int
	ASCII   bool
	Explain bool // show every header field under each segment (tcpscope decode's view)

	// Pager, when set, pages the session (--step): Run calls it once the
	// peers are done and the capture is complete, and shows each event
	// through the Stepper it returns, which lets the user go back; restore
	// (the terminal's normal mode) is called when paging ends, before the
	// summary. nil: the session is printed at once.
	Pager func() (st *replay.Stepper, restore func(), err error)
	// Live, when set, is given each frame as it is captured and each
	// socket call as it is made (demo --tui shows them as they come; the
	// timeline is still printed at the end, to stdout).
	Live LiveHooks

	// Where the capture goes: Output "" keeps it as the last session in
	// CacheFolder (replaced by each run); "-" writes a pcap to CaptureTo;
	// any other name is a file written there (.pcapng or .pcap by its
	// extension; /dev/null works).
	Output      string
	Force       bool // replace an existing Output (never a symlink: see internal/safefile)
	CaptureTo   io.Writer
	CacheFolder string
	CacheOwner  Owner

	Programs // --server, --client: the student's own programs (programs.go)
}

func (o Options) clients() int { return max(o.Clients, 1) }

// Saved says where the capture was kept.
type Saved struct {
	Path string // "" when it went to a stream (-w -) or was not kept
	Last bool   // Path is the last-session file, replaced by the next run
}

// LiveHooks receive the demo's events as they happen, on the demo's own
// goroutines: Frame a captured frame (its bytes valid only during the
// call), Call a socket call with its place on the timeline and its strace
// line ("server accept(3, …) = 4").
type LiveHooks struct {
	Frame func(f frame.Frame)
	Call  func(at time.Time, line string)
}

// traceLog collects the socket calls of both peers.
type traceLog struct {
	live   func(sock.Event) // Options.Live's Call, formatted
	mu     sync.Mutex
	events []sock.Event
	lines  []progLine  // the student's programs' output (programs.go)
	traced tracedCalls // bounds on the student's programs' calls (programs.go)
}

func (t *traceLog) add(e sock.Event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
	if t.live != nil {
		t.live(e)
	}
}

// liveCall formats a call for Options.Live.Call.
func liveCall(call func(time.Time, string), strsize int) func(sock.Event) {
	if call == nil {
		return nil
	}
	return func(e sock.Event) {
		var b []byte
		if e.Who != "" {
			b = append(append(b, e.Who...), ' ')
		}
		call(placeAt(e), string(e.AppendCall(b, strsize)))
	}
}

// maxFrames bounds the frames the demo keeps in memory for its timeline:
// far above any scenario (256 KiB through a 1500-byte MTU is ~400 frames
// per client), low enough to bound memory whatever happens.
const maxFrames = 200000

// Run performs the demo and prints it. The peers run to the end first,
// while the traffic is captured into memory (and to Output); then the
// session is printed, or paged. When ctx ends (Ctrl-C, SIGTERM) the peers
// are stopped and what was captured is printed; Run then returns
// ctx.Err().
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) (Saved, error) {
	var saved Saved
	if o.Scenario == "" {
		o.Scenario = "basic"
	}
	if err := Check(o); err != nil {
		return saved, err
	}
	mtu := 0
	if o.LossPct > 0 {
		// Ethernet-sized segments, so a loss hits one segment, not a 64 KiB
		// GSO super-packet, and fast retransmission can show.
		mtu = 1500
	}
	// One segment per packet: with --loss each loss and retransmission
	// shows; with --mss the capture sees the segments TCP made, not the
	// large packet it hands to loopback for later segmentation.
	if !o.HostLoopback {
		if err := SetupLoopback(mtu, o.LossPct > 0 || o.MSS > 0); err != nil {
			return saved, err
		}
	}
	host := netip.MustParseAddr("127.0.0.1")
	if o.IPv6 {
		host = netip.IPv6Loopback()
	}
	trace := &traceLog{live: liveCall(o.Live.Call, o.StrSize)}
	if o.Client != nil && o.Port == 0 {
		// The student's client names the port on its command line.
		o.Port = DefaultProgramPort
	}

	// Where the capture goes. The last-session file is opened first: the
	// HTTP page's folder goes beside it, so nothing is written to /tmp.
	var last *lastFile
	var out capture.File
	outName := o.Output
	switch o.Output {
	case "":
		var err error
		if o.CacheFolder == "" {
			err = errors.New("no cache folder")
		} else {
			last, err = createLast(o.CacheFolder, o.CacheOwner)
		}
		if err != nil {
			// The demo itself still runs: the capture is only not kept.
			fmt.Fprintf(stderr, "tcpscope demo: warning: the session is not kept: %v (give -w FILE to keep it)\n", err)
			out, outName = streamFile{io.Discard}, "discarded.pcap"
		} else {
			out, outName = last, last.path
		}
	case "-":
		out = streamFile{o.CaptureTo}
		outName = "-.pcap"
	}
	pageDir := o.CacheFolder
	if last == nil {
		pageDir = "" // the system's temporary folder, only for the page
	}

	// 1. The server's listening socket first, so its port is known.
	var sc *scenario
	var err error
	switch o.Scenario {
	case "basic":
		sc, err = basicScenario(host, trace.add, stderr, o)
	case "http":
		sc, err = httpScenario(host, pageDir, trace.add, o)
	}
	if err != nil {
		if last != nil {
			last.discard()
		}
		return saved, err
	}
	defer sc.cleanup()
	var progs *programRun
	if o.programs() {
		progs, err = o.withPrograms(ctx, sc, host, trace, stderr)
		if err != nil {
			if last != nil {
				last.discard()
			}
			var pe *programError
			if errors.As(err, &pe) && ctx.Err() == nil {
				// The calls it made (a bind that failed, say) still show.
				if printErr := printCallsOnly(ctx, trace, o, stdout, stderr); printErr != nil {
					return saved, printErr
				}
				fmt.Fprintf(stderr, "tcpscope demo: %s: %v\n", pe.who, pe.err)
				return saved, ErrProgramFailed
			}
			sc.srv.Close() // the reference server, not yet replaced
			return saved, err
		}
	}
	defer sc.srv.Close()
	port := sc.srv.Addr().Port()
	if err := DropRandomly(port, o.LossPct); err != nil {
		if last != nil {
			last.discard()
		}
		return saved, err
	}

	// 2. Capture, filtered to the server's port.
	// Not in immediate mode: nothing is shown before the peers are done, and
	// libpcap's blocks of real-sized packets hold a fast transfer that the
	// fixed slots of immediate mode would overflow.
	filter := fmt.Sprintf("tcp port %d", port)
	if o.programs() && !o.HostLoopback {
		// A student's client may connect anywhere (a closed port, too);
		// the namespace holds only the demo's traffic. On the host's
		// loopback the server's port is all that is the demo's.
		filter = "tcp"
	}
	h, err := capture.Open(capture.Options{Interface: capture.Loopback(), Filter: filter})
	if err != nil {
		if last != nil {
			last.discard()
		}
		return saved, err
	}
	defer h.Close()
	var w *capture.Writer
	switch {
	case out != nil:
		w, err = capture.NewWriter(out, outName, h.LinkType(), capture.DefaultSnaplen)
	default:
		w, err = capture.Create(o.Output, h.LinkType(), capture.DefaultSnaplen, o.Force)
	}
	if err != nil {
		if last != nil {
			last.discard()
		}
		return saved, err
	}
	mem := &memSource{}
	capDone := make(chan error, 1)
	go func() {
		tee := &capture.Tee{Src: h, W: w}
		if strings.HasSuffix(w.Name(), ".pcapng") {
			// Each frame's note as its packet comment: Wireshark shows
			// the demo's words beside the packets.
			an := render.NewAnnotator()
			an.StrSize = o.StrSize
			if an.StrSize <= 0 {
				an.StrSize = sock.DefaultStrSize
			}
			tee.Annotate = an.Note
		}
		var err error
		for err == nil {
			var f frame.Frame
			f, err = tee.Next()
			if err == nil && o.Live.Frame != nil {
				o.Live.Frame(f)
			}
			if err == nil && len(mem.frames) < maxFrames {
				f.Data = append([]byte(nil), f.Data...)
				mem.frames = append(mem.frames, f)
			}
		}
		if errors.Is(err, io.EOF) {
			err = tee.Err
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		capDone <- err
	}()

	// 3. The exchange: the server, and each client at once.
	runCtx, cancel := context.WithTimeout(ctx, max(60*time.Second, o.timeout()+10*time.Second))
	defer cancel()
	srvDone := make(chan error, 1)
	go func() { srvDone <- sc.srv.Serve(runCtx) }()
	clientErrs := make([]error, o.clients())
	var wg sync.WaitGroup
	bar := newBarrier(len(clientErrs))
	for i := range clientErrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			arrive := func() { once.Do(bar.arrive) }
			clientErrs[i] = sc.clientRun(runCtx, sc.srv.Addr(), func() { arrive(); bar.wait(runCtx) })
			arrive() // one that failed before connecting holds nobody up
		}()
	}
	wg.Wait()
	var srvErr error
	select {
	case srvErr = <-srvDone:
	case <-time.After(5 * time.Second):
		sc.srv.Close()
		srvErr = <-srvDone
	}
	// Let the last ACKs and FINs reach the capture, then stop it.
	if ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	h.Stop()
	capErr := <-capDone
	if last != nil {
		if capErr != nil {
			last.discard()
		} else if err := last.commit(); err != nil {
			capErr = err
		} else {
			saved = Saved{Path: last.path, Last: true}
		}
	} else if o.Output != "-" && capErr == nil {
		saved.Path = o.Output
	}
	if capErr != nil {
		return saved, capErr
	}
	if st, err := h.Stats(); err == nil && st.Dropped+st.IfDropped > 0 {
		fmt.Fprintf(stderr, "tcpscope demo: warning: the kernel dropped %d packet%s before the capture saw them; the timeline has gaps\n", st.Dropped+st.IfDropped, plural(st.Dropped+st.IfDropped))
	}
	if len(mem.frames) == maxFrames {
		fmt.Fprintf(stderr, "tcpscope demo: warning: only the first %d frames are shown\n", maxFrames)
	}
	if ctx.Err() == nil {
		for i, err := range clientErrs {
			if err == nil {
				continue
			}
			who := "client"
			if len(clientErrs) > 1 {
				who = fmt.Sprintf("client %d", i+1)
			}
			fmt.Fprintf(stderr, "tcpscope demo: %s: %v\n", who, err)
		}
		if srvErr != nil {
			fmt.Fprintf(stderr, "tcpscope demo: server: %v\n", srvErr)
		}
	}

	// 4. The timeline: the capture read back, socket calls slotted in by time.
	trace.mu.Lock()
	events, lines := trace.events, trace.lines
	trace.mu.Unlock()
	if err := printTimeline(ctx, mem, events, lines, o, stdout, stderr); err != nil {
		return saved, err
	}
	if ctx.Err() == nil && progs.failed(errors.Join(clientErrs...), srvErr) {
		return saved, ErrProgramFailed
	}
	return saved, ctx.Err()
}

// memSource replays the frames the demo captured.
type memSource struct {
	frames []frame.Frame
	next   int
}

func (m *memSource) Next() (frame.Frame, error) {
	if m.next >= len(m.frames) {
		return frame.Frame{}, io.EOF
	}
	m.next++
	return m.frames[m.next-1], nil
}

// streamFile is a pipe or terminal given as a capture file (-w -): it
// cannot be cut back after a failed write, so such a failure is final.
type streamFile struct{ w io.Writer }

func (s streamFile) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s streamFile) Truncate(int64) error {
	return errors.New("cannot cut back a stream")
}
func (s streamFile) Close() error { return nil }
