package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/trace"
)

// This file runs the student's own programs (--server CMD, --client CMD)
// in place of the reference peers, under package trace, so that their
// socket calls appear among the segments exactly as the reference peers'
// do. A program is started as the student (see programCredential), with
// stdin empty (or --client-stdin), and its stdout and stderr lines are
// shown in the timeline, tagged with its side.

// DefaultTimeout bounds how long a student's program may run.
const DefaultTimeout = 30 * time.Second

// DefaultProgramPort is where the reference server listens when only the
// client is the student's: the client's command line names the port.
const DefaultProgramPort = 8080

// progLine is one line a program printed.
type progLine struct {
	Time   time.Time
	Who    string // "client" or "server"
	Stream string // "stdout" or "stderr"
	Text   string
	end    int64 // offset just after the line in its stream
}

// maxLine bounds a program's output line kept for the timeline.
const maxLine = 512

// maxLines bounds how many output lines are kept per program: a program
// that prints in a loop must not fill memory.
const maxLines = 2000

// SplitCommand splits a --server/--client command line into words: blanks
// separate words, single and double quotes group them, a backslash escapes
// the next character. No shell runs: no pipes, redirections or variables
// (give "sh -c '…'" for those).
func SplitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if esc {
		return nil, fmt.Errorf("trailing backslash in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}

// program is one of the student's programs running under the tracer.
type program struct {
	who  string
	name string // argv[0] as given, for messages
	p    *trace.Program
	user string // who it runs as, for messages

	mu     sync.Mutex
	stderr []string // its last stderr lines, for the error message
	reads  sync.WaitGroup
	lines  []progLine // read from its pipes, with their end offsets
	writes [3][]write // per descriptor 1, 2: its writes, as the tracer saw them
	log    *traceLog
	once   sync.Once
}

// write is one write(2) to stdout or stderr: where its bytes end in the
// stream and when the call began.
type write struct {
	end int64
	at  time.Time
}

// maxTracedCalls bounds the calls kept from the student's programs: one
// that loops on a socket must not fill memory. The rest are counted.
const maxTracedCalls = 100000

// tracedCalls is what the demo keeps of the traced programs' calls beyond
// the events themselves.
type tracedCalls struct {
	maxData int       // bytes of data kept per call
	dropped int       // calls past maxTracedCalls
	warn    io.Writer // where the first drop is said
}

// addTraced keeps a traced program's call, up to maxTracedCalls.
func (t *traceLog) addTraced(e sock.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.events) >= maxTracedCalls {
		if t.traced.dropped == 0 && t.traced.warn != nil {
			fmt.Fprintf(t.traced.warn, "tcpscope demo: warning: more than %d socket calls; the later ones are not shown\n", maxTracedCalls)
		}
		t.traced.dropped++
		return
	}
	t.events = append(t.events, e)
	if t.live != nil {
		t.live(e)
	}
}

// startProgram starts argv as who, its calls going to log.
func startProgram(who string, argv []string, run runAs, stdin *os.File, log *traceLog, onListen func(netip.AddrPort)) (*program, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("program %s: %v", argv[0], unwrapExec(err))
	}
	pg := &program{who: who, name: argv[0], user: run.describe(), log: log}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	p, err := trace.Start(trace.Config{
		Who: who, Path: path, Argv: argv, Stdin: stdin, Stdout: outW, Stderr: errW,
		Cred: run.cred, Emit: log.addTraced, OnListen: onListen, MaxData: log.traced.maxData, OnOutput: pg.wrote,
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			name := argv[0]
			if path != argv[0] {
				name += " (" + path + ")"
			}
			return nil, fmt.Errorf("program %s: %s cannot execute it (permission denied): build it where that user can read it, not under /root", name, pg.user)
		}
		return nil, fmt.Errorf("program %s: %v", argv[0], unwrapExec(err))
	}
	pg.p = p
	pg.reads.Add(2)
	go pg.readLines(outR, "stdout")
	go pg.readLines(errR, "stderr")
	return pg, nil
}

// wrote records a write to stdout or stderr (trace.Config.OnOutput).
func (pg *program) wrote(fd, n int, at time.Time) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	w := pg.writes[fd]
	var end int64
	if len(w) > 0 {
		end = w[len(w)-1].end
	}
	if len(w) < 100000 { // bounded; later lines keep the time they were read
		pg.writes[fd] = append(w, write{end: end + int64(n), at: at})
	}
}

// finish hands the program's output lines to the timeline once it has
// ended and its pipes are drained, each stamped with the moment the
// program wrote its last byte (the write call's start, as the tracer saw
// it), not when tcpscope got round to reading it.
func (pg *program) finish() {
	pg.once.Do(func() {
		pg.reads.Wait()
		pg.mu.Lock()
		defer pg.mu.Unlock()
		for _, l := range pg.lines {
			fd := 1
			if l.Stream == "stderr" {
				fd = 2
			}
			w := pg.writes[fd]
			i := sort.Search(len(w), func(i int) bool { return w[i].end >= l.end })
			if i < len(w) {
				l.Time = w[i].at
			}
			pg.log.addLine(l)
		}
	})
}

// unwrapExec keeps the reason of an exec error, without Go's "fork/exec
// PATH:" prefix (the message names the program already).
func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// readLines reads the lines the program writes on r. Each is stamped
// when read, and later (finish) with the time of the write that ended it.
func (pg *program) readLines(r *os.File, stream string) {
	defer pg.reads.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 4096)
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		n := len(line)
		if n == 0 && err != nil {
			return
		}
		now := time.Now()
		text := strings.TrimRight(string(line[:min(n, maxLine)]), "\r\n")
		for err == bufio.ErrBufferFull { // an over-long line: skip the rest
			line, err = br.ReadSlice('\n')
			n += len(line)
		}
		off += int64(n)
		pg.mu.Lock()
		if len(pg.lines) < maxLines {
			pg.lines = append(pg.lines, progLine{Time: now, Who: pg.who, Stream: stream, Text: text, end: off})
		}
		if stream == "stderr" {
			pg.stderr = append(pg.stderr, text)
			if len(pg.stderr) > 3 {
				pg.stderr = pg.stderr[len(pg.stderr)-3:]
			}
		}
		pg.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// said is what the program last printed on stderr, for an error line.
func (pg *program) said() string {
	pg.finish()
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if len(pg.stderr) == 0 {
		return "; it printed nothing on stderr"
	}
	return fmt.Sprintf("; it printed on stderr: %q", strings.Join(pg.stderr, " / "))
}

// stop ends the program: SIGTERM, then SIGKILL if it is still there after
// a second. Its output is read to the end.
func (pg *program) stop() {
	select {
	case <-pg.p.Done():
		return
	default:
	}
	pg.p.Signal(syscall.SIGTERM)
	select {
	case <-pg.p.Done():
	case <-time.After(time.Second):
		pg.p.Signal(syscall.SIGKILL)
		<-pg.p.Done()
	}
}

// wait waits for the program to end, or stops it when ctx ends (the
// --timeout, or Ctrl-C). It returns a one-line error naming what went
// wrong, with what the program printed on stderr.
func (pg *program) wait(ctx context.Context, timeout time.Duration) error {
	select {
	case <-pg.p.Done():
	case <-ctx.Done():
		pg.stop()
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%s was still running after %v (--timeout): stopped it%s", pg.name, timeout, pg.said())
		}
		return fmt.Errorf("%s interrupted", pg.name)
	}
	pg.finish()
	if ex := pg.p.Exit(); !ex.OK() {
		return fmt.Errorf("%s %v%s", pg.name, ex, pg.said())
	}
	return nil
}

// traceLog's program output lines.
func (t *traceLog) addLine(l progLine) {
	t.mu.Lock()
	t.lines = append(t.lines, l)
	t.mu.Unlock()
}

// programServer is the student's server in the role of the reference
// server: it is listening once listenProgram returns.
type programServer struct {
	pg         *program
	addr       netip.AddrPort
	clientDone chan struct{}
	timeout    time.Duration
	once       sync.Once
}

// listenProgram starts the server program and returns once its first
// listen(2) has returned: only then may the client start (no sleeping and
// hoping). A program that ends first, or does not listen in time, gets one
// line saying so.
func listenProgram(ctx context.Context, argv []string, run runAs, host netip.Addr, timeout time.Duration, log *traceLog) (*programServer, error) {
	listening := make(chan netip.AddrPort, 1)
	pg, err := startProgram("server", argv, run, nil, log, func(a netip.AddrPort) { listening <- a })
	if err != nil {
		return nil, err
	}
	s := &programServer{pg: pg, clientDone: make(chan struct{}), timeout: timeout}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-listening:
		s.addr = a
		if a.Addr().IsUnspecified() {
			// Listening on every address: the client uses loopback, in
			// the family the server chose (:: also accepts IPv4).
			h := host
			if a.Addr().Is4() {
				h = netip.AddrFrom4([4]byte{127, 0, 0, 1})
			}
			s.addr = netip.AddrPortFrom(h, a.Port())
		}
		return s, nil
	case <-pg.p.Done():
		return nil, fmt.Errorf("%s %v before it called listen%s", pg.name, pg.p.Exit(), pg.said())
	case <-t.C:
		pg.stop()
		return nil, fmt.Errorf("%s did not call listen within %v (--timeout): stopped it%s", pg.name, timeout, pg.said())
	case <-ctx.Done():
		pg.stop()
		return nil, ctx.Err()
	}
}

// Addr is where the server listens, as the client should reach it.
func (s *programServer) Addr() netip.AddrPort { return s.addr }

// connGrace is how long a server may keep its connection open after the
// client has exited before it is stopped anyway.
const connGrace = 2 * time.Second

// Serve waits for the server program. A server that loops on accept for
// ever (as the lecture's does) is stopped, with SIGTERM, once the client
// has finished and the server has closed its connections: that is no
// error. One that exits by itself with a failure, or keeps a connection
// open, gets one line.
func (s *programServer) Serve(ctx context.Context) error {
	pg := s.pg
	select {
	case <-pg.p.Done():
		return pg.wait(ctx, s.timeout)
	case <-ctx.Done():
		return pg.wait(ctx, s.timeout)
	case <-s.clientDone:
	}
	deadline := time.Now().Add(connGrace)
	for pg.p.OpenConns() > 0 && time.Now().Before(deadline) {
		select {
		case <-pg.p.Done():
			return pg.wait(ctx, s.timeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
	open := pg.p.OpenConns()
	select {
	case <-pg.p.Done():
		return pg.wait(ctx, s.timeout)
	default:
	}
	pg.stop()
	pg.finish()
	if open > 0 {
		return fmt.Errorf("%s still had %d connection(s) open %v after the client finished (it never called close): stopped it", pg.name, open, connGrace)
	}
	return nil
}

// Close stops the server program if it still runs.
func (s *programServer) Close() error {
	s.once.Do(func() {
		s.pg.stop()
		s.pg.finish()
	})
	return nil
}

// clientFinished tells Serve that the client is done.
func (s *programServer) clientFinished() {
	select {
	case <-s.clientDone:
	default:
		close(s.clientDone)
	}
}

// runClientProgram runs the client program to its end and returns one
// line when it failed, hung, or never connected.
func runClientProgram(ctx context.Context, argv []string, run runAs, stdin *os.File, timeout time.Duration, log *traceLog) error {
	pg, err := startProgram("client", argv, run, stdin, log, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := pg.wait(ctx, timeout); err != nil {
		return err
	}
	if !log.called("client", "connect") {
		return fmt.Errorf("%s exited without calling connect%s", pg.name, pg.said())
	}
	return nil
}

// called reports whether who made a call named call.
func (t *traceLog) called(who, call string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.events {
		if e.Who == who && e.Call == call {
			return true
		}
	}
	return false
}

// programNote is the note of a traced program's call where the tracer
// knows more than the call's arguments tell: a close that sends nothing
// because another process still holds the socket (the fork-per-client
// server's parent), a process's death, and the time the program waited
// before the call (poll/select/epoll, or non-blocking retries folded away).
func programNote(e sock.Event, note string) string {
	if e.Call == "close" && e.Shared > 0 && e.Err == nil {
		return fmt.Sprintf("%d other descriptor%s (after fork or dup) still hold%s this socket: nothing is sent; only the last close sends FIN", e.Shared, plural(e.Shared), map[bool]string{true: "s", false: ""}[e.Shared == 1])
	}
	if e.Call == "killed" {
		if syscall.Signal(e.Value) == syscall.SIGTERM && strings.HasPrefix(e.Who, "server") {
			return "stopped by tcpscope (or a SIGTERM): the kernel closes its sockets"
		}
		return "the process died: the kernel closes its sockets (FIN, or RST if unread data was waiting)"
	}
	if e.Call == "exit_group" {
		return "the process ends: the kernel closes the sockets it still holds"
	}
	if e.Blocked < time.Millisecond {
		return note
	}
	b := fmt.Sprintf("blocked %v first (waiting in poll/select/epoll or retrying after EAGAIN)", e.Blocked.Round(time.Millisecond))
	if note == "" {
		return b
	}
	return b + "; " + note
}

// PlaceAt is where a socket call goes among the segments (see placeAt),
// for other commands that interleave traced calls (capture --run --trace).
func PlaceAt(e sock.Event) time.Time { return placeAt(e) }
