package prefault

import "testing"

type slot struct {
	p    *int
	s    []byte
	n    [100]int64
	flag bool
}

// TestPagesKeepsZero: the array is still all zero (nil pointers, empty
// slices) after Pages, whatever its element size, also empty.
func TestPagesKeepsZero(t *testing.T) {
	Pages([]slot(nil))
	Pages(make([]struct{}, 10))
	for _, n := range []int{1, 3, 40, 1000} {
		s := make([]slot, n, n+7)
		Pages(s)
		for i, x := range s[:cap(s)] {
			if x.p != nil || x.s != nil || x.n != ([100]int64{}) || x.flag {
				t.Fatalf("%d slots: slot %d changed: %+v", n, i, x)
			}
		}
	}
	b := make([]byte, 3*step+5)
	Pages(b)
	for i, c := range b {
		if c != 0 {
			t.Fatalf("byte %d is %d", i, c)
		}
	}
}
