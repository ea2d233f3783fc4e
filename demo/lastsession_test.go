package demo

import (
	"os"
	"os/user"
	"path/filepath"
	"syscall"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestCacheDir follows the XDG rules, and under sudo picks the invoking
// user's folder and ownership rather than root's.
func TestCacheDir(t *testing.T) {
	dir, owner, err := CacheDir(envOf(map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/a"}))
	if err != nil || dir != "/x/cache/tcpscope" || owner.set {
		t.Errorf("XDG_CACHE_HOME: %q %+v %v", dir, owner, err)
	}
	dir, _, err = CacheDir(envOf(map[string]string{"XDG_CACHE_HOME": "relative", "HOME": "/home/a"}))
	if err != nil || dir != "/home/a/.cache/tcpscope" {
		t.Errorf("a relative XDG_CACHE_HOME is ignored, as the spec says: %q %v", dir, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the sudo case needs root")
	}
	u, err := user.LookupId("65534")
	if err != nil {
		t.Skip("no user 65534 here")
	}
	dir, owner, err = CacheDir(envOf(map[string]string{"SUDO_UID": "65534", "SUDO_GID": "65534", "HOME": "/root", "XDG_CACHE_HOME": "/root/.cache"}))
	if err != nil || dir != filepath.Join(u.HomeDir, ".cache", "tcpscope") || !owner.set || owner.UID != 65534 || owner.GID != 65534 {
		t.Errorf("under sudo: %q %+v %v; want %s/.cache/tcpscope owned by 65534", dir, owner, err, u.HomeDir)
	}
}

// TestLastFileOwner: under sudo the folders the demo creates and the file
// it keeps belong to the invoking user; the file replaces the previous one
// only when committed, and a discarded run leaves the previous one.
func TestLastFileOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "home", ".cache", "tcpscope")
	owner := Owner{UID: 65534, GID: 65534, set: true}
	l, err := createLast(dir, owner)
	if err != nil {
		t.Fatal(err)
	}
	l.WriteString("one")
	if err := l.commit(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(base, "home"), filepath.Dir(dir), dir, filepath.Join(dir, LastName)} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s belongs to %d:%d, want 65534:65534", p, st.Uid, st.Gid)
		}
	}
	l, err = createLast(dir, owner)
	if err != nil {
		t.Fatal(err)
	}
	l.WriteString("two, interrupted")
	l.discard()
	if b, _ := os.ReadFile(filepath.Join(dir, LastName)); string(b) != "one" {
		t.Errorf("a discarded run changed the last session: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries left in the folder, want 1", len(ents))
	}
	// A folder that is a symlink is refused.
	link := filepath.Join(base, "link")
	os.Symlink(dir, link)
	if _, err := createLast(link, Owner{}); err == nil {
		t.Error("a symlinked cache folder was written to")
	}
}
