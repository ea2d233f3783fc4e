package replay

import (
	"container/heap"
	"errors"
	"fmt"
	"io"

	"github.com/tcpscope/tcpscope/frame"
)

// Merge reads several captures as one timeline, as mergecap does: each Next
// returns the earliest pending frame of all sources (ties go to the source
// listed first), renumbered from 1 in the merged order. Rotated captures
// (capture -C/-G, tcpdump -C/-G) thus replay as the one session they were,
// and a connection that spans two files keeps its stream.
//
// A frame's Data belongs to its source until that source's Next is called
// again, so Merge reads a source again only when the caller asks for the
// frame after the one it took from it; the other sources' pending frames
// stay valid meanwhile. Memory is one pending frame per source.
//
// names label errors ("b.pcap: frame 12: …"); a source's error stops the
// merge, after every frame before it (in merged order) was returned.
func Merge(names []string, srcs []frame.Source) frame.Source {
	m := &merged{names: names, srcs: srcs, refill: -1}
	for i := range srcs {
		m.pending = append(m.pending, &pendingFrame{src: i})
	}
	m.init = true
	return m
}

type pendingFrame struct {
	f   frame.Frame
	src int
}

type merged struct {
	names   []string
	srcs    []frame.Source
	pending []*pendingFrame // a heap ordered by time, then source index
	init    bool            // every source must be read once first
	refill  int             // the source whose frame was returned last; -1 none
	n       int
	err     error
}

func (m *merged) Len() int { return len(m.pending) }
func (m *merged) Less(i, j int) bool {
	a, b := m.pending[i], m.pending[j]
	if !a.f.Meta.Time.Equal(b.f.Meta.Time) {
		return a.f.Meta.Time.Before(b.f.Meta.Time)
	}
	return a.src < b.src
}
func (m *merged) Swap(i, j int) { m.pending[i], m.pending[j] = m.pending[j], m.pending[i] }
func (m *merged) Push(x any)    { m.pending = append(m.pending, x.(*pendingFrame)) }
func (m *merged) Pop() any {
	x := m.pending[len(m.pending)-1]
	m.pending = m.pending[:len(m.pending)-1]
	return x
}

// read fetches source i's next frame into p; false at its end.
func (m *merged) read(p *pendingFrame) (bool, error) {
	f, err := m.srcs[p.src].Next()
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", m.names[p.src], err)
	}
	p.f = f
	return true, nil
}

func (m *merged) Next() (frame.Frame, error) {
	if m.err != nil {
		return frame.Frame{}, m.err
	}
	if m.init {
		m.init = false
		all := m.pending
		m.pending = nil
		for _, p := range all {
			ok, err := m.read(p)
			if err != nil {
				m.err = err
				return frame.Frame{}, err
			}
			if ok {
				m.pending = append(m.pending, p)
			}
		}
		heap.Init(m)
	} else if m.refill >= 0 {
		// The caller is done with the frame taken from this source.
		p := m.pending[0]
		ok, err := m.read(p)
		switch {
		case err != nil:
			m.err = err
			return frame.Frame{}, err
		case ok:
			heap.Fix(m, 0)
		default:
			heap.Pop(m)
		}
		m.refill = -1
	}
	if len(m.pending) == 0 {
		return frame.Frame{}, io.EOF
	}
	p := m.pending[0] // stays at the top until the next call refills it
	m.refill = p.src
	m.n++
	f := p.f
	f.Meta.Number = m.n
	return f, nil
}
