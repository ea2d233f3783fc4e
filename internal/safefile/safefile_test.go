//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	existing := filepath.Join(dir, "existing")
	os.WriteFile(existing, []byte("old contents"), 0o644)
	hard := filepath.Join(dir, "hard")
	os.Link(victim, hard)

	for _, tc := range []struct {
		name    string
		path    string
		force   bool
		wantErr string // "" = success
	}{
		{"new file", filepath.Join(dir, "new"), false, ""},
		{"existing file", existing, false, "exists (use --force to overwrite)"},
		{"symlink to a file", link, false, "is a symlink"},
		{"symlink to a file, forced", link, true, "is a symlink"},
		{"dangling symlink", dangling, false, "is a symlink"},
		{"dangling symlink, forced", dangling, true, "is a symlink"},
		{"directory", dir, true, "is a directory"},
		{"hard link to the victim, not forced", hard, false, "exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Create(tc.path, tc.force)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				write(t, f, "new")
				if got := read(t, tc.path); got != "new" {
					t.Fatalf("contents %q", got)
				}
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Create(%s) succeeded, want %q", tc.path, tc.wantErr)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.path+": ") || !strings.Contains(msg, tc.wantErr) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line naming %s with %q", msg, tc.path, tc.wantErr)
			}
		})
	}
	if got := read(t, victim); got != "precious" {
		t.Fatalf("the victim behind the links now holds %q", got)
	}
	if got := read(t, existing); got != "old contents" {
		t.Fatalf("the existing file was changed without force: %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was created through the dangling symlink")
	}
}

func TestCreateForceReplaces(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	hard := filepath.Join(dir, "hard")
	if err := os.Link(victim, hard); err != nil {
		t.Fatal(err)
	}
	// Forcing over a hard link replaces the name: the other link keeps
	// its contents (O_TRUNC would have emptied both).
	f, err := Create(hard, true)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "replaced")
	if got := read(t, hard); got != "replaced" {
		t.Fatalf("forced file holds %q", got)
	}
	if got := read(t, victim); got != "precious" {
		t.Fatalf("the other hard link now holds %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("temporary file left behind: %v", ents)
	}
}

func TestCreateSpecial(t *testing.T) {
	f, err := Create("/dev/null", false)
	if err != nil {
		t.Fatalf("/dev/null: %v", err)
	}
	write(t, f, "gone")
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi, err)
	}

	// A FIFO with a reader is written as it is.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	f, err = Create(fifo, false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "through the fifo")
	if s := <-got; s != "through the fifo" {
		t.Fatalf("reader got %q", s)
	}
}

func TestOpenDir(t *testing.T) {
	base := t.TempDir()
	d, err := OpenDir(filepath.Join(base, "a", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(filepath.Join(base, "a", "out"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created directory: %v %v", fi, err)
	}
	victim := filepath.Join(base, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	os.Symlink(victim, filepath.Join(d.Path(), "flow"))
	if _, err := d.Create("flow", true); !errors.Is(err, ErrSymlink) {
		t.Fatalf("symlink inside DIR: %v", err)
	}
	for _, bad := range []string{"../escape", "", ".."} {
		if _, err := d.Create(bad, false); err == nil {
			t.Fatalf("Create(%q) accepted", bad)
		}
	}
	f, err := d.Create("new", false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "x")

	// The directory swapped for a symlink after OpenDir: files still go
	// into the directory that was opened.
	moved := filepath.Join(base, "moved")
	if err := os.Rename(d.Path(), moved); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(base, "elsewhere")
	os.Mkdir(elsewhere, 0o755)
	os.Symlink(elsewhere, d.Path())
	f, err = d.Create("after-swap", false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "y")
	if _, err := os.Stat(filepath.Join(moved, "after-swap")); err != nil {
		t.Fatalf("file not in the opened directory: %v", err)
	}
	if got := read(t, victim); got != "precious" {
		t.Fatalf("victim holds %q", got)
	}

	// A symlink to a directory, owned by us: followed.
	own := filepath.Join(base, "own-link")
	os.Symlink(elsewhere, own)
	d2, err := OpenDir(own)
	if err != nil {
		t.Fatalf("own symlink refused: %v", err)
	}
	d2.Close()
	// A file where DIR should be.
	if _, err := OpenDir(victim); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("OpenDir(file): %v", err)
	}
}

func TestOpenDirForeignSymlink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a symlink to another user")
	}
	base := t.TempDir()
	target := filepath.Join(base, "target")
	os.Mkdir(target, 0o755)
	link := filepath.Join(base, "out")
	os.Symlink(target, link)
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := OpenDir(link)
	if !errors.Is(err, ErrSymlink) || !strings.HasPrefix(err.Error(), link+": ") || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("foreign symlink: %v", err)
	}
}
