package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/frame"
)

// TestCreateRefuses: capture -w and demo -w never write through a symlink
// or over an existing file unless forced; /dev/null works.
func TestCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "out.pcap")
	os.Symlink(victim, link)
	for _, tc := range []struct {
		path  string
		force bool
		want  string
	}{
		{link, false, link + ": is a symlink"},
		{link, true, link + ": is a symlink"},
		{victim, false, victim + ": exists (use --force to overwrite)"},
	} {
		w, err := Create(tc.path, frame.LinkType(1), 0, tc.force)
		if err == nil {
			w.Close()
			t.Errorf("Create(%s, force=%v) succeeded", tc.path, tc.force)
		} else if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Create(%s, force=%v): %v, want %q", tc.path, tc.force, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim holds %q", b)
	}
	w, err := Create(victim, frame.LinkType(1), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); len(b) != 24 {
		t.Fatalf("forced file holds %d bytes, want a 24-byte pcap header", len(b))
	}
	w, err = Create("/dev/null", frame.LinkType(1), 0, false)
	if err != nil {
		t.Fatalf("/dev/null: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
