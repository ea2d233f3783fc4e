package main

import (
	"compress/gzip"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/internal/testroot"
)

// viewTerm is a tmux session of its own server running one command in a
// w×h terminal.
type viewTerm struct {
	t  *testing.T
	tm func(args ...string) string
}

func newViewTerm(t *testing.T, w, h int, command string) *viewTerm {
	t.Helper()
	return &viewTerm{t: t, tm: startTmux(t, w, h, []string{"TERM=xterm-256color"}, command)}
}

func (v *viewTerm) keys(k ...string) { v.tm(append([]string{"send-keys", "-t", "0"}, k...)...) }
func (v *viewTerm) screen() string   { return v.tm("capture-pane", "-p", "-t", "0") }
func (v *viewTerm) attrs() string    { return v.tm("capture-pane", "-p", "-e", "-t", "0") }
func (v *viewTerm) alternate() string {
	return strings.TrimSpace(v.tm("display", "-p", "-t", "0", "#{alternate_on}"))
}

// wait waits until the screen shows want and, when gone is not "", no
// longer shows gone; it returns the screen.
func (v *viewTerm) wait(want, gone string) string {
	v.t.Helper()
	var s string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		s = v.screen()
		if strings.Contains(s, want) && (gone == "" || !strings.Contains(s, gone)) {
			return s
		}
	}
	v.t.Fatalf("screen never showed %q (without %q); it shows:\n%s", want, gone, s)
	return ""
}

// reversed returns, for each screen line of s (capture-pane -e output),
// the text drawn in reverse video between columns from and to.
func reversed(s string, from, to int) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		var lit strings.Builder
		rev, col := false, 0
		rs := []rune(line)
		for i := 0; i < len(rs); i++ {
			if rs[i] == 0x1b && i+1 < len(rs) && rs[i+1] == '[' {
				j := i + 2
				for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
					j++
				}
				if j < len(rs) && rs[j] == 'm' {
					for _, p := range strings.Split(string(rs[i+2:j]), ";") {
						switch p {
						case "7":
							rev = true
						case "", "0", "27":
							rev = false
						}
					}
				}
				i = j
				continue
			}
			if rev && col >= from && col < to {
				lit.WriteRune(rs[i])
			} else if lit.Len() > 0 && !strings.HasSuffix(lit.String(), "|") {
				lit.WriteByte('|') // a gap between lit runs
			}
			col++
		}
		out = append(out, strings.Trim(lit.String(), "|"))
	}
	return out
}

// TestViewInTerminal drives tcpscope view in tmux at 80×24 and 120×40:
// the first screen, :28 (a fast retransmission), the sequence-number
// field lit (exactly its 4 bytes in the hex pane), s (one connection), r
// (the frame a retransmission repeats), n (next flagged frame), and q
// with the terminal restored. Golden screens under testdata/view-*.
func TestViewInTerminal(t *testing.T) {
	bin := binary(t)
	capture, err := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			name := fmt.Sprintf("view-%dx%d", size[0], size[1])
			cmd := fmt.Sprintf("%q view --color never %q; echo EXIT=$?; sleep 60", bin, capture)
			term := newViewTerm(t, size[0], size[1], cmd)
			s := term.wait(" frame 1 of 1400 ", "indexing")
			if term.alternate() != "1" {
				t.Errorf("the view is not on the alternate screen")
			}
			golden(t, name+"-first.golden", []byte(s))

			term.keys(":", "28", "Enter")
			s = term.wait(" frame 28 of 1400 ", "")
			if !strings.Contains(s, ">#28 ") || !strings.Contains(s, "fast retra") {
				t.Errorf(":28 did not select the fast retransmission:\n%s", s)
			}
			// Tab to the fields (the TCP header at the top), down to the
			// sequence number, Enter lights its bytes.
			term.keys("Tab", "j", "j", "j", "Enter")
			s = term.wait("lit: Sequence Number (bytes 38–41)", "")
			golden(t, name+"-seq.golden", []byte(s))
			a := term.attrs()
			plain := strings.Split(s, "\n")
			hexLine := regexp.MustCompile(`^[0-9a-f]{4}  [0-9a-f]{2} `)
			var lit []string
			for i, l := range reversed(a, 6, 55) {
				if i < len(plain) && hexLine.MatchString(plain[i]) && l != "" {
					lit = append(lit, l)
				}
			}
			got := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(lit, " "), "|", " ")), " ")
			if got != "4a dc e7 00" {
				t.Errorf("hex pane lights %q, want exactly the sequence number's 4 bytes \"4a dc e7 00\"\n%s", got, a)
			}

			// s: one connection (the capture has one: every frame stays).
			term.keys("s")
			term.wait("tcp.stream == 0: 1400 shown", "")
			term.keys("Escape")
			term.wait(" frame 28 of 1400 ", "tcp.stream")

			// Frame 30 retransmits what #23 sent: r goes there.
			term.keys("Tab", "Tab", ":", "30", "Enter", "r")
			s = term.wait("#30 repeats #23", "")
			if !strings.Contains(s, ">#23 ") {
				t.Errorf("r from #30 did not select #23:\n%s", s)
			}
			// n: the next frame with an analysis flag after #23 is #25.
			term.keys("n")
			term.wait(" frame 25 of 1400 ", "")

			term.keys("q")
			s = term.wait("EXIT=0", "")
			if term.alternate() != "0" {
				t.Errorf("after q the terminal is still on the alternate screen:\n%s", s)
			}
		})
	}
}

// TestViewCtrlC quits with Ctrl-C: exit 130, the terminal restored (off
// the alternate screen, keys echoed again by the shell).
func TestViewCtrlC(t *testing.T) {
	bin := binary(t)
	capture, err := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("%q view %q; echo EXIT=$? MODE:$(stty -a | tr ' ' '\\n' | grep icanon); sleep 60", bin, capture)
	term := newViewTerm(t, 80, 24, cmd)
	term.wait(" frame 1 of 1400 ", "")
	term.keys("C-c")
	s := term.wait("EXIT=130 MODE:", "")
	if !strings.Contains(s, "MODE:icanon") {
		t.Errorf("the terminal was left in raw mode:\n%s", s)
	}
	if term.alternate() != "0" {
		t.Errorf("after Ctrl-C the terminal is still on the alternate screen")
	}
}

// TestCaptureTUI captures loopback traffic with capture --tui in tmux: the
// handshake, the data and the teardown appear as they happen, the list
// follows the newest frame, and q stops the capture.
func TestCaptureTUI(t *testing.T) {
	testroot.Need(t)
	bin := binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := fmt.Sprintf("%q capture --tui --color never -i lo tcp port %d; echo EXIT=$?; sleep 60", bin, port)
	term := newViewTerm(t, 120, 40, cmd)
	term.wait(" · live", "")
	time.Sleep(300 * time.Millisecond) // the kernel filter in place
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := term.wait("handshake 3/3", "")
	if !strings.Contains(s, "[SYN]") || !strings.Contains(s, ">#3 ") {
		t.Errorf("the handshake is not shown with the newest frame selected:\n%s", s)
	}
	c.Write([]byte("hello"))
	s = term.wait("5 bytes of data", "")
	buf := make([]byte, 5)
	a.Read(buf)
	c.Close()
	a.Close()
	s = term.wait("(FIN 1/4)", "")
	s = term.wait("acknowledges the server's FIN", "")
	if !strings.Contains(s, " frame 8 of 8 · live") || !strings.Contains(s, ">#8 ") {
		t.Errorf("the list does not follow the newest frame:\n%s", s)
	}
	term.keys("q")
	term.wait("EXIT=0", "")
	if term.alternate() != "0" {
		t.Errorf("after q the terminal is still on the alternate screen")
	}
}

// TestDemoTUI runs demo --tui in tmux: the socket calls and the segments
// appear in one list in time order (listen before the SYN, connect's
// handshake, the data), the list follows the newest line, the status
// line says when the capture has stopped, and q ends it with the
// terminal restored.
func TestDemoTUI(t *testing.T) {
	testroot.Need(t)
	bin := binary(t)
	cmd := fmt.Sprintf("%q demo --tui --color never -w /dev/null; echo EXIT=$?; sleep 60", bin)
	term := newViewTerm(t, 120, 40, cmd)
	s := term.wait("capture stopped", "")
	if !strings.Contains(s, "server close(") {
		t.Errorf("the list does not follow the newest line (the server's last close):\n%s", s)
	}
	term.keys("g")
	s = term.wait("server listen(", "")
	lines := strings.Split(s, "\n")
	at := func(sub string) int {
		for i, l := range lines {
			if strings.Contains(l, sub) {
				return i
			}
		}
		t.Fatalf("no line with %q:\n%s", sub, s)
		return -1
	}
	if !(at("server listen(") < at("client connect(") && at("client connect(") < at("[SYN]") && at("[SYN]") < at("handshake 3/3")) {
		t.Errorf("calls and segments out of order (listen, connect, SYN, handshake 3/3):\n%s", s)
	}
	term.keys("q")
	term.wait("EXIT=0", "")
	if term.alternate() != "0" {
		t.Errorf("after q the terminal is still on the alternate screen")
	}
}

// TestViewPanesAndSave drives the other keys in tmux: ? (help), l (the
// ladder around the selected segment), f (the reassembled stream), a
// resize (the screen redrawn at the new size), w (the frames shown, one
// connection's, saved and read back by replay), and a gzip file read from
// standard input, spooled to a temporary file that is gone afterwards.
func TestViewPanesAndSave(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	src, err := os.ReadFile("../../pcaps/pcapplusplus-one_http_stream_rst.pcap")
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "in.pcap.gz")
	var b strings.Builder
	zw := gzip.NewWriter(&b)
	zw.Write(src)
	zw.Close()
	os.WriteFile(gz, []byte(b.String()), 0o644)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	out := filepath.Join(dir, "saved.pcap")
	cmd := fmt.Sprintf("cd %q && TMPDIR=%q %q view --color never - < %q; echo EXIT=$?; sleep 60", dir, tmp, bin, gz)
	term := newViewTerm(t, 100, 30, cmd)
	s := term.wait(" frame 1 of ", "indexing")
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("stdin is not spooled to one temporary file: %v", ents)
	}
	term.keys("?")
	term.wait("Keys · Esc or q closes", "")
	term.keys("q")
	term.wait(" frame 1 of ", "Keys · Esc")

	term.keys(":", "3", "Enter", "l")
	s = term.wait("Ladder · stream 0", "")
	if !strings.Contains(s, "#3 ") || !strings.Contains(s, "──") {
		t.Errorf("l shows no ladder around #3:\n%s", s)
	}
	term.keys("l", "f")
	s = term.wait("Stream 0 · ", "")
	if !strings.Contains(s, "bytes") {
		t.Errorf("f shows no stream:\n%s", s)
	}
	term.keys("Escape")
	term.wait("── Fields · frame 3", "")

	term.tm("resize-window", "-t", "0", "-x", "80", "-y", "24")
	s = term.wait("── Bytes", "Stream 0")
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if len([]rune(l)) > 80 || i >= 24 {
			t.Fatalf("after resizing to 80x24 line %d is outside it: %q", i, l)
		}
	}

	term.keys("s")
	s = term.wait("tcp.stream == 0", "")
	term.keys("w", "saved.pcap", "Enter")
	term.wait("saved ", "")
	got, _, err := runBin(t, "replay", "--color", "never", out)
	if err != nil || !strings.Contains(got, "#1 ") {
		t.Errorf("the saved file does not replay: %v\n%s", err, got)
	}
	// w never replaces a file.
	term.keys("w", "saved.pcap", "Enter")
	term.wait("saved.pcap exists", "")

	term.keys("q")
	term.wait("EXIT=0", "")
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the temporary copy was left behind: %v", ents)
	}
}

// TestViewSIGTERM: a SIGTERM restores the terminal and exits 130.
func TestViewSIGTERM(t *testing.T) {
	bin := binary(t)
	capture, _ := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	pidFile := filepath.Join(t.TempDir(), "pid")
	cmd := fmt.Sprintf("%q view %q & echo $! > %q; wait $!; echo EXIT=$? MODE:$(stty -a | tr ' ' '\\n' | grep icanon); sleep 60", bin, capture, pidFile)
	term := newViewTerm(t, 80, 24, cmd)
	term.wait(" frame 1 of 1400 ", "")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("kill", "-TERM", strings.TrimSpace(string(pid))).CombinedOutput(); err != nil {
		t.Fatalf("kill: %v %s", err, out)
	}
	s := term.wait("EXIT=130 MODE:", "")
	if !strings.Contains(s, "MODE:icanon") || term.alternate() != "0" {
		t.Errorf("the terminal was not restored after SIGTERM:\n%s", s)
	}
}

// TestViewCutFile opens a capture cut in the middle of a record: the
// frames before the cut are shown, the status line names the fault, and
// after q the command prints it on one line and exits 1.
func TestViewCutFile(t *testing.T) {
	bin := binary(t)
	data, err := os.ReadFile("../../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	cmd := fmt.Sprintf("%q view --color never %q; echo EXIT=$?; sleep 60", bin, cut)
	term := newViewTerm(t, 160, 24, cmd)
	s := term.wait("cut short", "indexing")
	if !strings.Contains(s, "#1 ") {
		t.Errorf("the frames before the fault are not shown:\n%s", s)
	}
	term.keys("G")
	term.wait("cut short", "")
	term.keys("q")
	s = term.wait("EXIT=1", "")
	if !strings.Contains(s, "tcpscope: "+cut+": frame ") {
		t.Errorf("no line naming the file and frame after the view:\n%s", s)
	}
}

// TestViewMouse clicks (SGR mouse reports, as xterm sends them) on a row
// of the packet list and on a field: the row is selected, the field's
// bytes lit.
func TestViewMouse(t *testing.T) {
	bin := binary(t)
	capture, _ := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	term := newViewTerm(t, 120, 40, fmt.Sprintf("%q view --color never %q; sleep 60", bin, capture))
	term.wait(" frame 1 of 1400 ", "indexing")
	click := func(x, y int) { // 1-based, as the terminal reports
		term.keys("-l", fmt.Sprintf("\x1b[<0;%d;%dM\x1b[<0;%d;%dm", x, y, x, y))
	}
	click(10, 6)
	s := term.wait(" frame 6 of 1400 ", "")
	if !strings.Contains(s, ">#6 ") {
		t.Fatalf("a click on the sixth row did not select #6:\n%s", s)
	}
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Sequence Number") {
			click(20, i+1)
			break
		}
	}
	term.wait("lit: Sequence Number (bytes 38–41)", "")
}

// TestViewHangup: a SIGHUP (the terminal closed) ends the view like q,
// and the temporary copy of standard input is removed.
func TestViewHangup(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	capture, _ := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	pidFile := filepath.Join(dir, "pid")
	cmd := fmt.Sprintf("TMPDIR=%q %q view - < %q & echo $! > %q; wait $!; echo EXIT=$?; sleep 60", tmp, bin, capture, pidFile)
	term := newViewTerm(t, 80, 24, cmd)
	term.wait(" frame 1 of 1400 ", "")
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Fatalf("standard input is not spooled: %v", ents)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	exec.Command("kill", "-HUP", strings.TrimSpace(string(pid))).Run()
	term.wait("EXIT=", "")
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("the temporary copy was left behind after SIGHUP: %v", ents)
	}
}

// TestViewDisplayFilter types a display filter after '/' in tmux: the list
// shows exactly the frames replay -Y shows for it, Esc every frame again,
// and a filter with an error says so on the status line.
func TestViewDisplayFilter(t *testing.T) {
	bin := binary(t)
	capture, _ := filepath.Abs("../../pcaps/lo-bulk-loss.pcap")
	const expr = "tcp.analysis.retransmission || tcp.analysis.fast_retransmission"
	out, _, err := runBin(t, "replay", "--color", "never", "--wide", "-Y", expr, capture)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") {
			want = append(want, strings.Fields(l)[0])
		}
	}
	if len(want) < 3 {
		t.Fatalf("replay -Y shows %d frames", len(want))
	}
	term := newViewTerm(t, 120, 40, fmt.Sprintf("%q view --color never %q; echo EXIT=$?; sleep 60", bin, capture))
	term.wait(" frame 1 of 1400 ", "indexing")
	term.keys("/", "tcp.nosuchfield == 1", "Enter")
	term.wait("nosuchfield", "")
	term.keys("/", expr, "Enter")
	s := term.wait(fmt.Sprintf("%s: %d shown", expr, len(want)), "filtering")
	var got []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ">#") || strings.HasPrefix(l, " #") {
			got = append(got, strings.Fields(strings.TrimLeft(l, ">"))[0])
		}
	}
	n := min(len(want), len(got))
	if n == 0 || strings.Join(got[:n], " ") != strings.Join(want[:n], " ") {
		t.Errorf("the view shows %v, replay -Y %v", got, want)
	}
	term.keys("Escape")
	term.wait(" frame ", expr)
	term.keys("q")
	term.wait("EXIT=0", "")
}
