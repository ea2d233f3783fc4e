package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The file names follow --out writes are predictable from the capture.
const (
	flowC2S = "010.003.065.035.05068-185.008.212.046.00080"
	flowS2C = "185.008.212.046.00080-010.003.065.035.05068"
)

func oneLineNaming(t *testing.T, errOut, path, what string) {
	t.Helper()
	want := "tcpscope: " + path + ": " + what
	if !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", errOut, want)
	}
}

func fileIs(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s now holds %d bytes %.40q, want %q", path, len(b), b, want)
	}
}

// TestFollowOutSymlink: a symlink planted at the predictable name, pointing
// at a file of the victim's, is refused even with --force; the victim is
// untouched.
func TestFollowOutSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, flowC2S)
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		args := []string{"follow", httpPcap, "--stream", "0", "--out", dir}
		if force {
			args = append(args, "--force")
		}
		_, errOut, code := runTS(args...)
		if code != 1 {
			t.Errorf("force=%v: exit %d, want 1", force, code)
		}
		oneLineNaming(t, errOut, link, "is a symlink")
		fileIs(t, victim, "precious")
	}
}

// TestFollowOutExisting: an existing file is not truncated without --force
// and is replaced with it.
func TestFollowOutExisting(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, flowS2C)
	os.WriteFile(name, []byte("mine"), 0o644)
	_, errOut, code := runTS("follow", httpPcap, "--stream", "0", "--out", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	oneLineNaming(t, errOut, name, "exists (use --force to overwrite)")
	fileIs(t, name, "mine")

	_, errOut, code = runTS("follow", httpPcap, "--stream", "0", "--out", dir, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	want := tsharkDirs(t, httpPcap, 0)
	fileIs(t, name, string(want[1]))
}

// TestFollowOutDir: DIR is created (0700) when missing; a DIR that is a
// symlink owned by someone else is refused.
func TestFollowOutDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "out")
	if _, errOut, code := runTS("follow", httpPcap, "--stream", "0", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("DIR: %v %v", fi, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the foreign symlink case needs root (os.Lchown)")
	}
	base := t.TempDir()
	target := filepath.Join(base, "target")
	os.Mkdir(target, 0o755)
	link := filepath.Join(base, "out")
	os.Symlink(target, link)
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runTS("follow", httpPcap, "--stream", "0", "--out", link)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	oneLineNaming(t, errOut, link, "is a symlink owned by uid 65534")
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("files written through the foreign symlink: %v", ents)
	}
	// The same link owned by us is followed.
	os.Lchown(link, 0, 0)
	if _, errOut, code := runTS("follow", httpPcap, "--stream", "0", "--out", link); code != 0 {
		t.Errorf("own symlink: exit %d: %s", code, errOut)
	}
}

// TestGraphOut: graph -o by the same rules, and -o /dev/null works.
func TestGraphOut(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "g.svg")
	os.Symlink(victim, link)
	_, errOut, code := runTS("graph", lossyPcap, "--stream", "0", "-o", link, "--force")
	if code != 1 {
		t.Errorf("symlink: exit %d, want 1", code)
	}
	oneLineNaming(t, errOut, link, "is a symlink")
	fileIs(t, victim, "precious")

	_, errOut, code = runTS("graph", lossyPcap, "--stream", "0", "-o", victim)
	if code != 1 {
		t.Errorf("existing: exit %d, want 1", code)
	}
	oneLineNaming(t, errOut, victim, "exists (use --force to overwrite)")
	fileIs(t, victim, "precious")

	if _, errOut, code = runTS("graph", lossyPcap, "--stream", "0", "-o", victim, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(victim); !strings.HasPrefix(string(b), "<svg") && !strings.HasPrefix(string(b), "<?xml") {
		t.Errorf("--force did not write the SVG: %.40q", b)
	}
	if _, errOut, code = runTS("graph", lossyPcap, "--stream", "0", "-o", "/dev/null"); code != 0 {
		t.Errorf("-o /dev/null: exit %d: %s", code, errOut)
	}
}
