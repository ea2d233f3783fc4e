package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/demo"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/trace"
)

// liveCalls holds a traced --run program's socket calls until the segment
// they precede is shown: each call is printed just before the first
// segment captured after its place on the timeline (demo.PlaceAt), as the
// demo does, even when the capture delivers packets in blocks.
type liveCalls struct {
	mu      sync.Mutex
	pending []sock.Event
	text    *render.Text
	js      *render.JSON
	json    bool
	started bool
	notes   *demo.CallNotes // nil: a zero liveCalls (tests) makes one
	dropped int             // calls not kept: more than maxPending waited for a segment
}

// maxPending bounds the calls held back for the next segment: a program
// that loops on calls with nothing on the wire must not fill memory.
const maxPending = 100000

func (l *liveCalls) add(e sock.Event) {
	l.mu.Lock()
	if len(l.pending) < maxPending {
		l.pending = append(l.pending, e)
	} else {
		l.dropped++
	}
	l.mu.Unlock()
}

// until prints the calls placed at or before t; the zero t prints all.
func (l *liveCalls) until(t time.Time) error {
	l.mu.Lock()
	sort.SliceStable(l.pending, func(i, j int) bool { return demo.PlaceAt(l.pending[i]).Before(demo.PlaceAt(l.pending[j])) })
	n := 0
	for n < len(l.pending) && (t.IsZero() || !demo.PlaceAt(l.pending[n]).After(t)) {
		n++
	}
	out := append([]sock.Event(nil), l.pending[:n]...)
	l.pending = l.pending[n:]
	l.mu.Unlock()
	for _, e := range out {
		at := demo.PlaceAt(e)
		if !l.started {
			l.text.Start, l.js.Start, l.started = at, at, true
		}
		if l.notes == nil {
			l.notes = demo.NewCallNotes()
		}
		note := l.notes.Note(e)
		var err error
		if l.json {
			err = l.js.Call(e, at, note, 0)
		} else {
			err = l.text.Call(e, at, note, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// hook is showOptions.Hook: before each segment, the calls that precede it.
func (l *liveCalls) hook(it *pipeline.Item) {
	if !l.started {
		l.text.Start, l.js.Start, l.started = it.Frame.Meta.Time, it.Frame.Meta.Time, true
	}
	l.until(it.Frame.Meta.Time)
	if it.Packet.TCP != nil {
		if l.notes == nil {
			l.notes = demo.NewCallNotes()
		}
		l.notes.Segment(it.Frame.Meta.Number, it.Frame.Meta.Time, &it.Packet)
	}
}

// startTraced runs cmdline with sh -c under the tracer (capture --run
// --trace), as the user the demo would run it as; its output goes to w.
// done is closed when it and its children have ended, with *runErr set.
func startTraced(ctx context.Context, cmdline string, asRoot bool, calls *liveCalls, w io.Writer, stderr io.Writer) (done <-chan struct{}, runErr *error, err error) {
	run, note := demo.ProgramUser(asRoot)
	if note != "" {
		fmt.Fprintf(stderr, "tcpscope: %s\n", note)
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	who := "run"
	if words, err := demo.SplitCommand(cmdline); err == nil {
		who = filepath.Base(words[0])
	}
	p, err := trace.Start(trace.Config{Who: who, Path: "/bin/sh", Argv: []string{"sh", "-c", cmdline},
		Stdin: os.Stdin, Stdout: pw, Stderr: pw, Cred: run, Emit: calls.add, MaxData: sock.DefaultStrSize + 1})
	pw.Close()
	if err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("--run %q --trace: %v", cmdline, err)
	}
	copied := make(chan struct{})
	go func() { io.Copy(w, r); r.Close(); close(copied) }()
	c := make(chan struct{})
	var rerr error
	go func() {
		select {
		case <-p.Done():
		case <-ctx.Done():
			p.Signal(15)
			select {
			case <-p.Done():
			case <-time.After(time.Second):
				p.Signal(9)
				<-p.Done()
			}
		}
		<-copied
		if ex := p.Exit(); !ex.OK() {
			rerr = fmt.Errorf("%v", ex)
		}
		close(c)
	}()
	return c, &rerr, nil
}
