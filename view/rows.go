package view

import (
	"sort"
	"sync"
)

// rowList is the frames the packet list shows, in frame order: every
// indexed frame, those of one connection (s), or those a display filter
// matched (/). A list made from a predicate over the index's records grows
// with the index; a filter's list grows as its background pass finds
// frames.
type rowList struct {
	idx *Index
	all bool

	mu      sync.Mutex
	frames  []int32 // frame numbers; -(k+1) for the index's k-th call
	pred    func(r *Rec) bool
	scanned int // frames the predicate has looked at
}

func allRows(idx *Index) *rowList { return &rowList{idx: idx, all: true} }

// predRows lists the indexed frames whose record satisfies pred.
func predRows(idx *Index, pred func(r *Rec) bool) *rowList {
	l := &rowList{idx: idx, pred: pred}
	l.refresh()
	return l
}

// refresh takes in the frames indexed since the last call.
func (l *rowList) refresh() {
	if l.all {
		l.merge()
		return
	}
	if l.pred == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.idx.Each(l.scanned+1, l.idx.Len(), func(n int, r *Rec) bool {
		if l.pred(r) {
			l.frames = append(l.frames, int32(n))
		}
		l.scanned = n
		return true
	})
}

// merge rebuilds every row when the index has socket calls to show among
// the frames (demo --tui: a few hundred rows). Without calls every frame's
// row is its number less one, and nothing is kept.
func (l *rowList) merge() {
	calls := l.idx.NumCalls()
	n := l.idx.Len()
	l.mu.Lock()
	defer l.mu.Unlock()
	if calls == 0 || (l.scanned == n && len(l.frames) == n+calls) {
		// (a call arriving late is inserted in time: the count changes)
		return
	}
	all := l.idx.Calls(0)
	l.frames = l.frames[:0]
	k := 0
	l.idx.Each(1, n, func(f int, r *Rec) bool {
		for k < len(all) && all[k].Time <= r.Time {
			l.frames = append(l.frames, int32(-(k + 1)))
			k++
		}
		l.frames = append(l.frames, int32(f))
		return true
	})
	for ; k < len(all); k++ {
		l.frames = append(l.frames, int32(-(k + 1)))
	}
	l.scanned = n
}

// merged reports whether the rows are in l.frames (see merge); l.mu held.
func (l *rowList) merged() bool { return !l.all || len(l.frames) > 0 }

// add appends frame n (a filter run's match).
func (l *rowList) add(n int) {
	l.mu.Lock()
	l.frames = append(l.frames, int32(n))
	l.mu.Unlock()
}

// Len is the number of rows.
func (l *rowList) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.merged() {
		return l.idx.Len()
	}
	return len(l.frames)
}

// At is the frame number on row i; -(k+1) for the index's k-th call.
func (l *rowList) At(i int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.merged() {
		return i + 1
	}
	if i < 0 || i >= len(l.frames) {
		return 0
	}
	return int(l.frames[i])
}

// Find returns the row of frame n, or of the first frame after it when n
// is not in the list (exact false).
func (l *rowList) Find(n int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.merged() {
		return n - 1, n >= 1 && n <= l.idx.Len()
	}
	if l.all {
		for i, f := range l.frames {
			if int(f) >= n {
				return i, int(f) == n
			}
		}
		return len(l.frames), false
	}
	i := sort.Search(len(l.frames), func(i int) bool { return int(l.frames[i]) >= n })
	return i, i < len(l.frames) && int(l.frames[i]) == n
}
