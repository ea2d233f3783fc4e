//go:build linux && (amd64 || arm64)

package trace

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// collector gathers events from several tracers at once.
type collector struct {
	mu sync.Mutex
	ev []sock.Event
}

func (c *collector) add(e sock.Event) { c.mu.Lock(); c.ev = append(c.ev, e); c.mu.Unlock() }

func (c *collector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.ev {
		out = append(out, e.String())
	}
	return out
}

// buildC compiles one of examples/c into dir.
func buildC(t *testing.T, dir, name string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("skipping: no C compiler (cc)")
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command("cc", "-O2", "-o", out, filepath.Join("..", "examples", "c", name+".c")).CombinedOutput(); err != nil {
		t.Fatalf("cc %s: %v\n%s", name, err, b)
	}
	return out
}

// canTrace skips when ptrace is not allowed here (a container without
// CAP_SYS_PTRACE and a strict Yama setting, for instance).
func canTrace(t *testing.T) {
	t.Helper()
	p, err := Start(Config{Path: "/bin/true", Argv: []string{"true"}})
	if err != nil {
		t.Skipf("skipping: cannot trace here: %v", err)
	}
	<-p.Done()
}

func TestTraceCEcho(t *testing.T) {
	canTrace(t)
	dir := t.TempDir()
	srvBin, cliBin := buildC(t, dir, "server"), buildC(t, dir, "client")
	var c collector
	listening := make(chan netip.AddrPort, 1)
	srv, err := Start(Config{Who: "server", Path: srvBin, Argv: []string{"server", "0"}, Emit: c.add,
		OnListen: func(a netip.AddrPort) { listening <- a }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Signal(9)
	var addr netip.AddrPort
	select {
	case addr = <-listening:
	case <-time.After(5 * time.Second):
		t.Fatal("no listen seen")
	}
	if addr.Port() == 0 {
		t.Fatalf("listen address %v has no port", addr)
	}
	cli, err := Start(Config{Who: "client", Path: cliBin, Argv: []string{"client", "127.0.0.1", itoa(addr.Port())}, Emit: c.add})
	if err != nil {
		t.Fatal(err)
	}
	<-cli.Done()
	if !cli.Exit().OK() {
		t.Fatalf("client: %v", cli.Exit())
	}
	deadline := time.Now().Add(3 * time.Second)
	for srv.OpenConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.OpenConns(); n != 0 {
		t.Errorf("server still has %d connections open", n)
	}
	srv.Signal(15)
	<-srv.Done()
	got := strings.Join(c.lines(), "\n")
	t.Logf("\n%s", got)
	port := itoa(addr.Port())
	for _, w := range []string{
		"server socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3",
		"server setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
		`server bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0`,
		"server listen(3, 16) = 0",
		"client socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3",
		`client connect(3, {sa_family=AF_INET, sin_port=htons(` + port + `), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`,
		`client write(3, "hello, TCP\n", 11) = 11`,
		`server read(4, "hello, TCP\n", 1024) = 11`,
		"client close(3) = 0",
		`server read(4, "", 1024) = 0`,
		"server close(4) = 0",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	if srv.Exit().Signal != 15 {
		t.Errorf("server exit %v, want SIGTERM", srv.Exit())
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
