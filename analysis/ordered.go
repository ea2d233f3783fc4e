package analysis

import (
	"sort"

	"github.com/google/btree"
)

// ordered holds a long unacknowledged list's entries in (key, ord) order
// (keyedLess), with the B-tree's methods that unackedList uses.
//
// Why two forms: in a bulk transfer segments are sent in order and
// acknowledged from the oldest, so every entry is added after the last and
// removed from the front. A sorted slice does both in O(1) (the front is an
// index that moves up), where the B-tree paid a descent, a node split or
// merge and a copy within its node for each: a third of the analysis's
// time on bench/bulk.pcap. An insert or removal deep inside a long run
// (reordering, many retransmissions, crafted traffic) would cost the slice
// O(n) each, so past moveMax entries to shift the run is moved into a
// B-tree, which then keeps it until the list is emptied (Clear).
type ordered struct {
	run []keyed // the entries, run[lo:], while bt is nil
	lo  int
	bt  *btree.BTreeG[keyed] // the entries, once run was abandoned

	free  *btree.FreeListG[keyed] // nodes for bt (nil: its own)
	spare *btree.BTreeG[keyed]    // an emptied bt, for the next one
}

// moveMax is the most entries an insert or removal shifts within the run
// before the run becomes a B-tree.
const moveMax = 256

func (o *ordered) Len() int {
	if o.bt != nil {
		return o.bt.Len()
	}
	return len(o.run) - o.lo
}

// Clear empties o; the run's array (and an emptied B-tree) stay for reuse.
func (o *ordered) Clear() {
	if o.bt != nil {
		o.bt.Clear(true)
		o.spare, o.bt = o.bt, nil
	}
	o.run, o.lo = o.run[:0], 0
}

func (o *ordered) Min() (keyed, bool) {
	if o.bt != nil {
		return o.bt.Min()
	}
	if o.lo == len(o.run) {
		return keyed{}, false
	}
	return o.run[o.lo], true
}

func (o *ordered) Max() (keyed, bool) {
	if o.bt != nil {
		return o.bt.Max()
	}
	if o.lo == len(o.run) {
		return keyed{}, false
	}
	return o.run[len(o.run)-1], true
}

// search returns the index in o.run of the first entry not less than e.
func (o *ordered) search(e keyed) int {
	r := o.run[o.lo:]
	return o.lo + sort.Search(len(r), func(i int) bool { return !keyedLess(r[i], e) })
}

// toTree moves the run into a B-tree.
func (o *ordered) toTree() {
	t := o.spare
	o.spare = nil
	if t == nil {
		if o.free != nil {
			t = btree.NewWithFreeListG(16, keyedLess, o.free)
		} else {
			t = btree.NewG(16, keyedLess)
		}
	}
	for _, e := range o.run[o.lo:] {
		t.ReplaceOrInsert(e)
	}
	o.bt = t
	o.run, o.lo = o.run[:0], 0
}

// ReplaceOrInsert adds e, or replaces the entry equal to it.
func (o *ordered) ReplaceOrInsert(e keyed) {
	if o.bt != nil {
		o.bt.ReplaceOrInsert(e)
		return
	}
	n := len(o.run) - o.lo
	if n == 0 || keyedLess(o.run[len(o.run)-1], e) {
		if o.lo > 0 && len(o.run) == cap(o.run) {
			// Full with room at the front: move down instead of growing.
			copy(o.run, o.run[o.lo:])
			o.run, o.lo = o.run[:n], 0
		}
		o.run = append(o.run, e)
		return
	}
	i := o.search(e)
	if !keyedLess(e, o.run[i]) {
		o.run[i] = e // equal: replace
		return
	}
	switch {
	case i == o.lo && o.lo > 0:
		o.lo--
		o.run[o.lo] = e
	case len(o.run)-i <= moveMax:
		o.run = append(o.run, keyed{})
		copy(o.run[i+1:], o.run[i:])
		o.run[i] = e
	default:
		o.toTree()
		o.bt.ReplaceOrInsert(e)
	}
}

// Delete removes the entry equal to e, if any.
func (o *ordered) Delete(e keyed) {
	if o.bt != nil {
		o.bt.Delete(e)
		return
	}
	if o.lo == len(o.run) {
		return
	}
	// Acknowledged from the oldest: the entry is nearly always the first,
	// found without a binary search (which was 2 % of stats's work).
	i := o.lo
	if keyedLess(o.run[i], e) {
		i = o.search(e)
	}
	if i == len(o.run) || keyedLess(e, o.run[i]) {
		return
	}
	switch {
	case i == o.lo:
		o.lo++
		if o.lo == len(o.run) {
			o.run, o.lo = o.run[:0], 0
		}
	case i == len(o.run)-1:
		o.run = o.run[:i]
	case i-o.lo <= moveMax:
		copy(o.run[o.lo+1:i+1], o.run[o.lo:i])
		o.lo++
	case len(o.run)-1-i <= moveMax:
		copy(o.run[i:], o.run[i+1:])
		o.run = o.run[:len(o.run)-1]
	default:
		o.toTree()
		o.bt.Delete(e)
	}
}

// Ascend calls fn for every entry in order, until fn returns false.
func (o *ordered) Ascend(fn func(keyed) bool) {
	if o.bt != nil {
		o.bt.Ascend(fn)
		return
	}
	for _, e := range o.run[o.lo:] {
		if !fn(e) {
			return
		}
	}
}

// AscendLessThan is Ascend over the entries less than pivot.
func (o *ordered) AscendLessThan(pivot keyed, fn func(keyed) bool) {
	if o.bt != nil {
		o.bt.AscendLessThan(pivot, fn)
		return
	}
	for _, e := range o.run[o.lo:] {
		if !keyedLess(e, pivot) || !fn(e) {
			return
		}
	}
}

// AscendGreaterOrEqual is Ascend from the first entry not less than pivot.
func (o *ordered) AscendGreaterOrEqual(pivot keyed, fn func(keyed) bool) {
	if o.bt != nil {
		o.bt.AscendGreaterOrEqual(pivot, fn)
		return
	}
	for _, e := range o.run[o.search(pivot):] {
		if !fn(e) {
			return
		}
	}
}

// Descend calls fn for every entry in reverse order, until fn returns false.
func (o *ordered) Descend(fn func(keyed) bool) {
	if o.bt != nil {
		o.bt.Descend(fn)
		return
	}
	for i := len(o.run) - 1; i >= o.lo; i-- {
		if !fn(o.run[i]) {
			return
		}
	}
}

// DescendLessOrEqual is Descend from the last entry not greater than pivot.
func (o *ordered) DescendLessOrEqual(pivot keyed, fn func(keyed) bool) {
	if o.bt != nil {
		o.bt.DescendLessOrEqual(pivot, fn)
		return
	}
	r := o.run[o.lo:]
	j := o.lo + sort.Search(len(r), func(i int) bool { return keyedLess(pivot, r[i]) })
	for i := j - 1; i >= o.lo; i-- {
		if !fn(o.run[i]) {
			return
		}
	}
}
