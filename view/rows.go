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
	frames  []int32
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
	if l.all || l.pred == nil {
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

// add appends frame n (a filter run's match).
func (l *rowList) add(n int) {
	l.mu.Lock()
	l.frames = append(l.frames, int32(n))
	l.mu.Unlock()
}

// Len is the number of rows.
func (l *rowList) Len() int {
	if l.all {
		return l.idx.Len()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// At is the frame number on row i.
func (l *rowList) At(i int) int {
	if l.all {
		return i + 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.frames) {
		return 0
	}
	return int(l.frames[i])
}

// Find returns the row of frame n, or of the first frame after it when n
// is not in the list (exact false).
func (l *rowList) Find(n int) (int, bool) {
	if l.all {
		return n - 1, n >= 1 && n <= l.idx.Len()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.frames), func(i int) bool { return int(l.frames[i]) >= n })
	return i, i < len(l.frames) && int(l.frames[i]) == n
}
