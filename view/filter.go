package view

import (
	"context"
	"os"
	"sync"

	"github.com/gdamore/tcell/v2"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// Matcher decides whether a frame is shown: a compiled display filter.
type Matcher interface {
	Match(it *pipeline.Item) bool
}

// FilterCompiler compiles what the user typed after '/' (the command gives
// the display-filter package's Compile, -Y's language).
type FilterCompiler func(expr string) (Matcher, error)

// filterRun is one display filter applied in the background: a second pass
// over the file with an analyzer of its own (a filter may ask for any
// analysis field, and the index keeps only a few), adding each match to
// the list as it goes.
type filterRun struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	done   bool
	err    error
}

func (r *filterRun) finished() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

func (r *filterRun) stop() {
	if r != nil {
		r.cancel()
	}
}

// applyFilter shows only the frames expr matches (/ EXPR Enter).
func (v *view) applyFilter(expr string) {
	if v.o.Filter == nil {
		v.msg = "display filters are not available in this build"
		return
	}
	m, err := v.o.Filter(expr)
	if err != nil {
		v.msg = err.Error()
		return
	}
	n := v.selected()
	v.stopFilter()
	list := &rowList{idx: v.idx}
	ctx, cancel := context.WithCancel(context.Background())
	run := &filterRun{cancel: cancel}
	v.running, v.list, v.filter = run, list, expr
	v.top, v.sel = 0, 0
	go func() {
		err := filterPass(ctx, v.o.Path, m, list, v.s)
		run.mu.Lock()
		run.done, run.err = true, err
		run.mu.Unlock()
		v.s.PostEvent(tcell.NewEventInterrupt(nil))
	}()
	_ = n
}

func (v *view) stopFilter() {
	v.running.stop()
	v.running = nil
}

// filterPass reads path once, adding the frames m matches to list and
// waking the screen now and then.
func filterPass(ctx context.Context, path string, m Matcher, list *rowList, s tcell.Screen) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := replay.NewReader(f)
	if err != nil {
		return err
	}
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	for k := 0; ; k++ {
		if k&4095 == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if k > 0 {
				s.PostEvent(tcell.NewEventInterrupt(nil))
			}
		}
		it, err := pl.NextRef()
		if err != nil {
			if pipeline.IsEOF(err) {
				return nil
			}
			return err
		}
		if m.Match(it) {
			list.add(it.Frame.Meta.Number)
		}
	}
}
