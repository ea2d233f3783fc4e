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

// progLine is one line a program printed, stamped when tcpscope read it.
type progLine struct {
	Time   time.Time
	Who    string // "client" or "server"
	Stream string // "stdout" or "stderr"
	Text   string
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
}

// startProgram starts argv as who, its calls going to log.
func startProgram(who string, argv []string, run runAs, stdin *os.File, log *traceLog, onListen func(netip.AddrPort)) (*program, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%s program %s: %v", who, argv[0], unwrapExec(err))
	}
	pg := &program{who: who, name: argv[0], user: run.describe()}
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
		Cred: run.cred, Emit: log.add, OnListen: onListen, MaxData: sock.MaxData,
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("%s program %s: %s cannot execute it (permission denied): build it where that user can read it, not under /root", who, argv[0], pg.user)
		}
		return nil, fmt.Errorf("%s program %s: %v", who, argv[0], unwrapExec(err))
	}
	pg.p = p
	pg.reads.Add(2)
	go pg.readLines(outR, "stdout", log)
	go pg.readLines(errR, "stderr", log)
	return pg, nil
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

// readLines stamps each line the program writes on r.
func (pg *program) readLines(r *os.File, stream string, log *traceLog) {
	defer pg.reads.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 4096)
	kept := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			now := time.Now()
			text := strings.TrimRight(string(line[:min(len(line), maxLine)]), "\r\n")
			for err == bufio.ErrBufferFull { // an over-long line: skip the rest
				_, err = br.ReadSlice('\n')
			}
			if kept < maxLines {
				kept++
				log.addLine(progLine{Time: now, Who: pg.who, Stream: stream, Text: text})
			}
			if stream == "stderr" {
				pg.mu.Lock()
				pg.stderr = append(pg.stderr, text)
				if len(pg.stderr) > 3 {
					pg.stderr = pg.stderr[len(pg.stderr)-3:]
				}
				pg.mu.Unlock()
			}
		}
		if err != nil {
			if err != io.EOF && err != bufio.ErrBufferFull {
				return
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// said is what the program last printed on stderr, for an error line.
func (pg *program) said() string {
	pg.reads.Wait()
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
			return fmt.Errorf("%s %s was still running after %v (--timeout): stopped it%s", pg.who, pg.name, timeout, pg.said())
		}
		return fmt.Errorf("%s %s interrupted", pg.who, pg.name)
	}
	pg.reads.Wait()
	if ex := pg.p.Exit(); !ex.OK() {
		return fmt.Errorf("%s %s %v%s", pg.who, pg.name, ex, pg.said())
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
		pg.reads.Wait()
		return nil, fmt.Errorf("server %s %v before it called listen%s", pg.name, pg.p.Exit(), pg.said())
	case <-t.C:
		pg.stop()
		return nil, fmt.Errorf("server %s did not call listen within %v (--timeout): stopped it%s", pg.name, timeout, pg.said())
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
	pg.reads.Wait()
	if open > 0 {
		return fmt.Errorf("server %s still had %d connection(s) open %v after the client finished (it never called close): stopped it", pg.name, open, connGrace)
	}
	return nil
}

// Close stops the server program if it still runs.
func (s *programServer) Close() error {
	s.once.Do(s.pg.stop)
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
		return fmt.Errorf("client %s exited without calling connect%s", pg.name, pg.said())
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

// blockedNote prefixes a call's note with the time the program waited
// before it (poll/select/epoll, or non-blocking retries folded away).
func blockedNote(e sock.Event, note string) string {
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
