package main

import (
	"os"
	"testing"
)

// exampleDir is a temporary directory every user may enter: t.TempDir is
// 0700, and the student's programs run as nobody when the tests are root.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tcpscope-programs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
