package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
)

// Programs are the student's own programs, given to demo --server and
// --client in place of the reference peers (see programs.go).
type Programs struct {
	Server, Client []string      // argv; nil: the reference peer
	ClientStdin    string        // the client's stdin; "": empty
	Timeout        time.Duration // how long each may run; 0: DefaultTimeout
	AsRoot         bool          // as root, run them as root rather than as nobody
}

// programError is a student's program that failed before the exchange
// (a server that never listened): Run names the side.
type programError struct {
	who string
	err error
}

func (e *programError) Error() string { return e.err.Error() }

// ErrProgramFailed is returned by Run after the timeline when a student's
// program failed; the line saying how has been printed already.
var ErrProgramFailed = errors.New("a program failed")

func (p Programs) programs() bool { return p.Server != nil || p.Client != nil }

func (p Programs) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

// programRun is what Run needs to know after the exchange.
type programRun struct {
	srv *programServer
}

// failed says whether the exchange counts as failed: a student's program
// failed (the line was printed with the others).
func (r *programRun) failed(clientErr, srvErr error) bool {
	return r != nil && (clientErr != nil || srvErr != nil)
}

// withPrograms puts the student's programs in place of the reference
// server and/or client of sc. The reference server was already listening:
// when the student's replaces it, it is closed and its calls forgotten.
// With --clients N the client program runs N times at once; the server
// program is stopped once all of them are done.
func (o Options) withPrograms(ctx context.Context, sc *scenario, host netip.Addr, log *traceLog, stderr io.Writer) (*programRun, error) {
	run := programCredential(o.AsRoot)
	if run.note != "" {
		fmt.Fprintf(stderr, "tcpscope demo: %s\n", run.note)
	}
	// A call's data is kept as far as it is shown (--strsize), plus a
	// byte so that "..." shows when there was more.
	log.traced = tracedCalls{maxData: max(o.StrSize, sock.DefaultStrSize) + 1, warn: stderr}
	pr := &programRun{}
	var stdin *os.File
	if o.ClientStdin != "" {
		// Opened first: a file the student may not read stops the demo
		// before any program starts.
		f, err := run.open(o.ClientStdin)
		if err != nil {
			return nil, err
		}
		stdin = f
	}
	if o.Server != nil {
		sc.srv.Close()
		log.forget("server")
		ps, err := listenProgram(ctx, o.Server, run, host, o.timeout(), log)
		if err != nil {
			if stdin != nil {
				stdin.Close()
			}
			return nil, &programError{who: "server", err: err}
		}
		sc.srv, pr.srv = ps, ps
	}
	ref, refSrv := sc.clientRun, sc.srv
	var mu sync.Mutex
	left := o.clients()
	sc.clientRun = func(ctx context.Context, addr netip.AddrPort, connected func()) error {
		defer func() {
			mu.Lock()
			left--
			if left == 0 && pr.srv != nil {
				pr.srv.clientFinished()
			}
			if left == 0 && stdin != nil {
				stdin.Close()
			}
			if left == 0 && o.Server == nil && o.Client != nil && !log.connected("client") {
				// The reference server would wait for a connection
				// that is not coming (the client failed to start, or
				// its connect failed): stop it now.
				refSrv.Close()
			}
			mu.Unlock()
		}()
		if o.Client == nil {
			return ref(ctx, addr, connected)
		}
		connected() // a program does not say when it is connected: no waiting for the others
		return runClientProgram(ctx, o.Client, run, stdin, o.timeout(), log)
	}
	return pr, nil
}

// connected reports whether who made a connect that succeeded (or is
// in progress, non-blocking).
func (t *traceLog) connected(who string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.events {
		if e.Who == who && e.Call == "connect" && (e.Err == nil || errors.Is(e.Err, syscall.EINPROGRESS)) {
			return true
		}
	}
	return false
}

// forget drops who's calls (the reference server's, replaced).
func (t *traceLog) forget(who string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.events[:0]
	for _, e := range t.events {
		if e.Who != who {
			kept = append(kept, e)
		}
	}
	t.events = kept
}

// printCallsOnly prints the calls and output of programs that failed
// before anything was captured (a server that never listened).
func printCallsOnly(ctx context.Context, log *traceLog, o Options, stdout, stderr io.Writer) error {
	log.mu.Lock()
	events, lines := log.events, log.lines
	log.mu.Unlock()
	if len(events) == 0 && len(lines) == 0 {
		return nil
	}
	sort.SliceStable(events, func(i, j int) bool { return placeAt(events[i]).Before(placeAt(events[j])) })
	th := render.NewTheme(o.Color)
	text := &render.Text{W: stdout, Theme: th, StrSize: o.StrSize}
	js := &render.JSON{W: stdout, StrSize: o.StrSize}
	var start time.Time
	if len(events) > 0 {
		start = placeAt(events[0])
	}
	if len(lines) > 0 && (start.IsZero() || lines[0].Time.Before(start)) {
		start = lines[0].Time
	}
	text.Start, js.Start = start, start
	out := &outputLines{lines: lines, th: th, json: o.JSON, stderr: stderr, emit: func(_ *progLine, text string) error {
		_, err := io.WriteString(stdout, text)
		return err
	}}
	for _, e := range events {
		if err := out.until(placeAt(e), start); err != nil {
			return err
		}
		var err error
		if o.JSON {
			err = js.Call(e, placeAt(e), "", o.StrSize)
		} else {
			err = text.Call(e, placeAt(e), "", nil)
		}
		if err != nil {
			return err
		}
	}
	return out.until(time.Time{}, start)
}

// outputLines prints the programs' output lines in time order among the
// other lines: text on stdout, and with --json on stderr (stdout holds only
// JSON).
type outputLines struct {
	lines  []progLine
	sorted bool
	next   int
	th     render.Theme
	json   bool
	stderr io.Writer                            // with --json
	emit   func(l *progLine, text string) error // otherwise
}

// until prints the lines printed at or before t; the zero t: all.
func (o *outputLines) until(t time.Time, start time.Time) error {
	if !o.sorted {
		sort.SliceStable(o.lines, func(i, j int) bool { return o.lines[i].Time.Before(o.lines[j].Time) })
		o.sorted = true
	}
	for o.next < len(o.lines) && (t.IsZero() || !o.lines[o.next].Time.After(t)) {
		l := &o.lines[o.next]
		o.next++
		text := l.Who + " " + l.Stream + ": " + l.Text
		if l.Who == "server" {
			text = o.th.Server(text)
		} else {
			text = o.th.Client(text)
		}
		line := fmt.Sprintf("%s %s  %s\n", o.th.Dim("      "), o.th.Dim(render.RelTime(l.Time, start)), text)
		var err error
		if o.json {
			_, err = io.WriteString(o.stderr, line)
		} else {
			err = o.emit(l, line)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// labelProcesses names the process of each call when a side ran more
// than one (a fork-per-client server): "server[4242]", as strace -f
// prefixes "[pid 4242]".
func labelProcesses(events []sock.Event) {
	pids := map[string]map[int]bool{}
	for _, e := range events {
		if e.PID == 0 {
			continue
		}
		if pids[e.Who] == nil {
			pids[e.Who] = map[int]bool{}
		}
		pids[e.Who][e.PID] = true
	}
	for i, e := range events {
		if len(pids[e.Who]) > 1 {
			events[i].Who = fmt.Sprintf("%s[%d]", e.Who, e.PID)
		}
	}
}

// connStreams maps a connection's two ends to its stream number, from a
// first pass over the capture, so that each traced call can name the
// stream its descriptor belongs to.
type connStreams struct {
	m map[[2]netip.AddrPort]int
	n int // streams in the capture
}

// streamsOf reads the demo's capture (kept in memory) once for its
// connections' stream numbers.
func streamsOf(src frame.Source) *connStreams {
	cs := &connStreams{m: map[[2]netip.AddrPort]int{}}
	m, ok := src.(*memSource)
	if !ok {
		return cs
	}
	pl := pipeline.New(&memSource{frames: m.frames}, analysis.New(analysis.Options{}))
	var it pipeline.Item
	for pl.Next(&it) == nil {
		if it.Packet.TCP == nil || !it.Analyzed {
			continue
		}
		a, b := it.Packet.SrcAddrPort(), it.Packet.DstAddrPort()
		cs.m[[2]netip.AddrPort{a, b}] = it.Result.Stream
		cs.m[[2]netip.AddrPort{b, a}] = it.Result.Stream
		cs.n = max(cs.n, it.Result.Stream+1)
	}
	return cs
}

// note prefixes a traced call's note with its stream when the capture has
// several: the descriptor's local and peer address name the connection.
func (cs *connStreams) note(e sock.Event, note string) string {
	if cs == nil || cs.n < 2 || !e.Local.IsValid() || !e.Peer.IsValid() {
		return note
	}
	st, ok := cs.m[[2]netip.AddrPort{unmap(e.Local), unmap(e.Peer)}]
	if !ok {
		return note
	}
	if note == "" {
		return fmt.Sprintf("stream %d", st)
	}
	return fmt.Sprintf("stream %d: %s", st, note)
}

// unmap writes an IPv4-mapped IPv6 address (an IPv6 socket talking IPv4)
// as the IPv4 address the capture shows.
func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
