package analysis

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/btree"
)

// TestOrderedAgreesWithBTree drives ordered and a plain B-tree with the
// same random inserts (mostly in order, some anywhere, some equal),
// removals (mostly the oldest, some anywhere) and questions, and compares
// every answer: in the run, across its change into a B-tree, and after a
// Clear brings the run back.
func TestOrderedAgreesWithBTree(t *testing.T) {
	runs, trees := 0, 0
	for seed := uint64(1); seed <= 24; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed*3))
		var o ordered
		ref := btree.NewG(4, keyedLess)
		var ord uint64
		key := uint32(0)
		collect := func(each func(func(keyed) bool)) []keyed {
			var out []keyed
			n := rng.IntN(8) // sometimes stop early
			each(func(e keyed) bool {
				out = append(out, e)
				return n == 0 || len(out) < n
			})
			return out
		}
		for step := 0; step < 3000; step++ {
			switch op := rng.IntN(100); {
			case op < 50: // in order
				key += uint32(1 + rng.IntN(1500))
				ord++
				e := keyed{key, unacked{ord: ord, frame: step}}
				o.ReplaceOrInsert(e)
				ref.ReplaceOrInsert(e)
			case op < 55+int(seed%4)*5: // anywhere, or equal to one there
				ord++
				e := keyed{uint32(rng.IntN(int(key) + 1)), unacked{ord: ord, frame: step}}
				if m, ok := ref.Min(); ok && rng.IntN(3) == 0 {
					e = m
					e.u.frame = -step // replaces
				}
				o.ReplaceOrInsert(e)
				ref.ReplaceOrInsert(e)
			case op < 85: // the oldest goes
				if m, ok := ref.Min(); ok {
					o.Delete(m)
					ref.Delete(m)
				}
			case op < 90: // one anywhere goes (or one not there)
				var all []keyed
				ref.Ascend(func(e keyed) bool { all = append(all, e); return true })
				e := keyed{key: rng.Uint32()}
				if len(all) > 0 && rng.IntN(4) > 0 {
					e = all[rng.IntN(len(all))]
				}
				o.Delete(e)
				ref.Delete(e)
			case op < 91 && seed%2 == 0:
				o.Clear()
				ref.Clear(false)
			}
			if o.bt == nil {
				runs++
			} else {
				trees++
			}
			if o.Len() != ref.Len() {
				t.Fatalf("seed %d step %d: len %d, B-tree %d", seed, step, o.Len(), ref.Len())
			}
			gm, gok := o.Min()
			wm, wok := ref.Min()
			gx, gxok := o.Max()
			wx, wxok := ref.Max()
			if gm != wm || gok != wok || gx != wx || gxok != wxok {
				t.Fatalf("seed %d step %d: min/max %v %v, B-tree %v %v", seed, step, gm, gx, wm, wx)
			}
			pivot := keyed{uint32(rng.IntN(int(key) + 2)), unacked{ord: rng.Uint64N(ord + 2)}}
			state := rng.Uint64()
			same := func(what string, g, w func(func(keyed) bool)) {
				r1 := rand.New(rand.NewPCG(state, 1))
				r2 := rand.New(rand.NewPCG(state, 1))
				rng = r1
				got := collect(g)
				rng = r2
				want := collect(w)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d step %d: %s(%v): %v, B-tree %v", seed, step, what, pivot, got, want)
				}
			}
			same("Ascend", o.Ascend, func(f func(keyed) bool) { ref.Ascend(f) })
			same("Descend", o.Descend, func(f func(keyed) bool) { ref.Descend(f) })
			same("AscendLessThan", func(f func(keyed) bool) { o.AscendLessThan(pivot, f) }, func(f func(keyed) bool) { ref.AscendLessThan(pivot, f) })
			same("AscendGreaterOrEqual", func(f func(keyed) bool) { o.AscendGreaterOrEqual(pivot, f) }, func(f func(keyed) bool) { ref.AscendGreaterOrEqual(pivot, f) })
			same("DescendLessOrEqual", func(f func(keyed) bool) { o.DescendLessOrEqual(pivot, f) }, func(f func(keyed) bool) { ref.DescendLessOrEqual(pivot, f) })
		}
	}
	if runs < 10000 || trees < 10000 {
		t.Errorf("%d steps with a run, %d with a B-tree: both forms should be exercised", runs, trees)
	}
}
