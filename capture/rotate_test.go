package capture

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/frame"
)

// TestRotatingNames: the files and names tcpdump makes (checked against
// tcpdump 4.99 on loopback: -C 1 → a a1 a2; -C 1 -W 3 → b0 b1 b2 then b0
// again; -G 1 -W 3 'g-%S' → g-41 g-43 g-44 then exit 0).
func TestRotatingNames(t *testing.T) {
	data := make([]byte, 60000) // one frame
	fr := frame.Frame{Data: data, Meta: frame.Meta{CapLen: len(data), OrigLen: len(data), Link: frame.LinkEthernet}}
	for _, tc := range []struct {
		name  string
		base  string
		o     RotateOptions
		n     int // frames written, 1 s apart
		files []string
		done  bool // ErrRotationDone before all were written
	}{
		{"size", "a", RotateOptions{SizeMB: 1}, 40, []string{"a", "a1", "a2"}, false},
		{"ring", "b", RotateOptions{SizeMB: 1, Files: 3}, 70, []string{"b0", "b1", "b2", "b0", "b1"}, false},
		{"time", "g-%S", RotateOptions{Interval: 2 * time.Second, Files: 3}, 10, []string{"g-00", "g-02", "g-04"}, true},
		{"time+size", "h-%S", RotateOptions{Interval: 20 * time.Second, SizeMB: 1}, 40, []string{"h-00", "h-001", "h-20", "h-201"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local)
			tc.o.Now = func() time.Time { return clock }
			r, err := CreateRotating(filepath.Join(dir, tc.base), frame.LinkEthernet, 0, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			done := false
			for i := 0; i < tc.n; i++ {
				if err := r.Write(fr); err == ErrRotationDone {
					done = true
					break
				} else if err != nil {
					t.Fatal(err)
				}
				clock = clock.Add(time.Second)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range r.Names() {
				got = append(got, filepath.Base(n))
			}
			if !slices.Equal(got, tc.files) || done != tc.done {
				t.Errorf("files %q (done %v), want %q (done %v)", got, done, tc.files, tc.done)
			}
			for _, n := range r.Names() {
				if fi, err := os.Stat(n); err != nil || fi.Size() == 0 || (tc.o.SizeMB > 0 && fi.Size() > int64(tc.o.SizeMB)*1000000+int64(len(data))+100) {
					t.Errorf("%s: %v, size %v", n, err, fi)
				}
			}
		})
	}
}

// TestRotatingRefusesExisting: the first file of each name is created by
// safefile's rules; a ring reuses only its own files.
func TestRotatingRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c0"), []byte("precious"), 0o644)
	if _, err := CreateRotating(filepath.Join(dir, "c"), frame.LinkEthernet, 0, RotateOptions{SizeMB: 1, Files: 2}); err == nil {
		t.Fatal("an existing c0 was overwritten")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c0")); string(b) != "precious" {
		t.Fatal("c0 changed")
	}
}
