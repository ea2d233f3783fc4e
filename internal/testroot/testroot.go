// Package testroot is for tests that capture packets or create network
// namespaces: they need root, which CI has. Elsewhere they skip with a
// message; in CI (CI=true) a missing privilege fails them, so they are never
// skipped silently where they must run.
package testroot

import (
	"os"
	"testing"
)

// Need skips t when not running as root, or fails it under CI=true.
func Need(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test captures packets and must run as root in CI")
		}
		t.Skip("skipping: capturing packets needs root (run the suite with sudo, as CI does)")
	}
}
