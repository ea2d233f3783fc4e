// Package golden compares test output with reviewed files under testdata/
// (gofmt's golden-file pattern). It is for _test.go files only.
//
// Each test package declares its own flag, so that nothing here is global:
//
//	var update = flag.Bool("update", false, "rewrite golden files")
//	golden.Check(t, "testdata/x.golden", got, *update)
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Check compares got with the file at path. With update it rewrites the
// file instead. On a difference it writes got to path+".got" beside it, so
// `diff` shows what changed, and fails the test.
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(path + ".got")
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(path+".got", got, 0o644)
		t.Errorf("output differs from %s (actual output in %s.got; if the change is intended, rerun with -update and review the diff)", path, path)
		return
	}
	os.Remove(path + ".got")
}
