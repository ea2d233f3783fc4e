package prefetch

import "testing"

// TestBytes: any slice, including one ending on the last byte of its
// array and an empty one, is prefetched without a fault and left as it was.
func TestBytes(t *testing.T) {
	b := make([]byte, 4096+17)
	for i := range b {
		b[i] = byte(i)
	}
	for _, r := range [][2]int{{0, 0}, {0, 1}, {63, 65}, {1, 4096 + 17}, {4096, 4096 + 17}, {4096 + 16, 4096 + 17}} {
		Bytes(b[r[0]:r[1]])
	}
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
}

func BenchmarkBytes(b *testing.B) {
	buf := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Bytes(buf)
	}
}
