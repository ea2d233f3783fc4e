//go:build linux && (amd64 || arm64)

package trace

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// compile builds C source text with cc (and -pthread) into dir.
func compile(t *testing.T, dir, name, src string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("skipping: no C compiler (cc)")
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if b, err := exec.Command("cc", "-O2", "-pthread", "-o", out, c).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, b)
	}
	return out
}

// run traces path with args to its end and returns its events.
func run(t *testing.T, path string, args ...string) []sock.Event {
	t.Helper()
	var c collector
	p, err := Start(Config{Who: "client", Path: path, Argv: append([]string{filepath.Base(path)}, args...), Emit: c.add})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(20 * time.Second):
		p.Signal(9)
		<-p.Done()
		t.Fatal("the program did not finish")
	}
	if !p.Exit().OK() {
		t.Fatalf("program: %v", p.Exit())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sock.Event(nil), c.ev...)
}

func find(evs []sock.Event, call string) []sock.Event {
	var out []sock.Event
	for _, e := range evs {
		if e.Call == call {
			out = append(out, e)
		}
	}
	return out
}

const nonblockClient = `#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	connect(fd, (struct sockaddr *)&a, sizeof a); /* EINPROGRESS */
	struct pollfd p = {fd, POLLOUT, 0};
	poll(&p, 1, -1);
	int err; socklen_t len = sizeof err;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	write(fd, "ping", 4);
	char buf[16];
	while (read(fd, buf, sizeof buf) < 0) { /* EAGAIN until the server answers */
		p.events = POLLIN;
		poll(&p, 1, -1);
	}
	close(fd);
	return 0;
}
`

// TestNonBlocking: a non-blocking client as runtimes write them. connect
// shows EINPROGRESS; the read that failed with EAGAIN is folded into the
// one that got "pong", which carries the wait (poll included) in Blocked;
// every event names the connection (the local port the kernel chose,
// read back with pidfd_getfd).
func TestNonBlocking(t *testing.T) {
	canTrace(t)
	bin := compile(t, t.TempDir(), "nb", nonblockClient)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	remote := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		remote <- c.RemoteAddr().String()
		buf := make([]byte, 4)
		c.Read(buf)
		time.Sleep(150 * time.Millisecond)
		c.Write([]byte("pong"))
		c.Close()
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	evs := run(t, bin, strconv.Itoa(port))
	var lines []string
	for _, e := range evs {
		lines = append(lines, e.String())
	}
	got := strings.Join(lines, "\n")
	t.Logf("\n%s", got)
	if !strings.Contains(got, "connect(3, {sa_family=AF_INET, sin_port=htons("+strconv.Itoa(port)+"), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EINPROGRESS") {
		t.Error("no connect = -1 EINPROGRESS")
	}
	if !strings.Contains(got, "socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_IP) = 3") {
		t.Error("socket's type flags are not shown")
	}
	if strings.Contains(got, "EAGAIN") {
		t.Error("an EAGAIN retry was not folded away")
	}
	reads := find(evs, "read")
	if len(reads) != 1 || string(reads[0].Data) != "pong" || reads[0].Ret != 4 {
		t.Fatalf("reads %+v, want one read of \"pong\"", reads)
	}
	if reads[0].Blocked < 100*time.Millisecond {
		t.Errorf("the read blocked %v, want at least the server's 150 ms pause", reads[0].Blocked)
	}
	r := <-remote
	for _, e := range evs {
		if e.Call == "socket" {
			continue
		}
		if e.Local.String() != r || e.Peer.Port() != uint16(port) {
			t.Errorf("%s: connection %v ↔ %v, want %s ↔ port %d", e.Call, e.Local, e.Peer, r, port)
		}
	}
}

const forkThreadExec = `#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
static int fd;
static struct sockaddr_in a;
static void *dial(void *arg) {
	connect(fd, (struct sockaddr *)&a, sizeof a);
	return NULL;
}
int main(int argc, char **argv) {
	fd = socket(AF_INET, SOCK_STREAM, 0);
	int gone = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)gone;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	pthread_t th; /* connect from another thread: same descriptor table */
	pthread_create(&th, NULL, dial, NULL);
	pthread_join(th, NULL);
	pid_t pid = fork();
	if (pid == 0) { /* inetd style: the socket becomes stdin of cat */
		dup2(fd, 0);
		close(fd);
		execl("/bin/cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(fd); /* the parent's copy: no FIN, the child holds it */
	waitpid(pid, NULL, 0);
	return 0;
}
`

// TestForkThreadExec: a socket connected from a second thread, handed to
// a child over fork, dup2'ed onto stdin and read by cat after exec: every
// step is followed, and each call names its process.
func TestForkThreadExec(t *testing.T) {
	canTrace(t)
	if _, err := os.Stat("/bin/cat"); err != nil {
		t.Skip("skipping: no /bin/cat")
	}
	bin := compile(t, t.TempDir(), "fte", forkThreadExec)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("hello\n"))
		c.Close()
	}()
	evs := run(t, bin, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	var lines []string
	for _, e := range evs {
		lines = append(lines, strconv.Itoa(e.PID)+" "+e.String())
	}
	t.Logf("\n%s", strings.Join(lines, "\n"))
	conn := find(evs, "connect")
	if len(conn) != 1 || conn[0].Err != nil {
		t.Fatalf("connect from the thread: %+v", conn)
	}
	parent := conn[0].PID
	reads := find(evs, "read")
	if len(reads) == 0 || reads[0].FD != 0 || string(reads[0].Data) != "hello\n" {
		t.Fatalf("cat's read of the socket on fd 0 is missing: %+v", reads)
	}
	if reads[0].PID == parent {
		t.Error("cat's read is named after the parent process")
	}
	if last := reads[len(reads)-1]; last.Ret != 0 {
		t.Errorf("cat's last read returned %d, want 0 (EOF)", last.Ret)
	}
	closes := find(evs, "close")
	var parentClose, childClose bool
	for _, c := range closes {
		if c.FD == 3 && c.PID == parent {
			parentClose = true
		}
		if c.FD == 3 && c.PID != parent {
			childClose = true // the child's close(fd) after dup2
		}
	}
	if !parentClose || !childClose {
		t.Errorf("close(3) in parent %v and child %v, want both", parentClose, childClose)
	}
}

// TestFDTable: the descriptor table rules the tracer applies.
func TestFDTable(t *testing.T) {
	s1, s2 := &sockInfo{}, &sockInfo{}
	tab := newTable()
	tab.m[3] = fdEntry{s: s1}
	tab.m[4] = fdEntry{s: s2, cloexec: true}
	c := tab.copy() // fork
	delete(c.m, 3)
	if tab.get(3) != s1 {
		t.Error("closing in the child closed the parent's descriptor")
	}
	tab.exec()
	if tab.get(4) != nil || tab.get(3) != s1 {
		t.Error("exec must drop close-on-exec descriptors only")
	}
	if tab.get(-1) != nil {
		t.Error("fd -1 found")
	}
}

const sendfileClient = `#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	int file = open(argv[2], O_RDONLY);
	sendfile(fd, file, NULL, 6);
	close(fd);
	return 0;
}
`

// TestSendfile: sendfile from a file to a socket, as lab HTTP servers
// send pages, is shown with its descriptors and count.
func TestSendfile(t *testing.T) {
	canTrace(t)
	dir := t.TempDir()
	bin := compile(t, dir, "sf", sendfileClient)
	page := filepath.Join(dir, "page")
	os.WriteFile(page, []byte("hello\n"), 0o644)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b := make([]byte, 16)
		n, _ := c.Read(b)
		got <- string(b[:n])
		c.Close()
	}()
	evs := run(t, bin, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), page)
	sf := find(evs, "sendfile")
	if len(sf) != 1 || sf[0].String() != "client sendfile(3, 4, NULL, 6) = 6" {
		t.Errorf("sendfile events %v", sf)
	}
	if s := <-got; s != "hello\n" {
		t.Errorf("the server got %q", s)
	}
}
