package view

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// flagged matches the frames with an analysis flag: a stand-in for a
// display filter ("tcp.analysis.flags") that needs no parser.
type flagged struct{}

func (flagged) Match(it *pipeline.Item) bool { return it.Analyzed && it.Result.Flags != 0 }

// snapScreen keeps a copy of the screen's text at each Show, taken on the
// view's goroutine: the simulation screen's cells may not be read while
// the view draws.
type snapScreen struct {
	tcell.SimulationScreen
	mu   sync.Mutex
	text string
}

func (s *snapScreen) Show() {
	s.SimulationScreen.Show()
	cells, w, h := s.GetContents()
	var b strings.Builder
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if c := cells[y*w+x]; len(c.Runes) > 0 {
				b.WriteRune(c.Runes[0])
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	s.mu.Lock()
	s.text = b.String()
	s.mu.Unlock()
}

// runSim runs the view on a 120×40 simulation screen; keys are typed with
// type, the screen read with screen; stop waits for the view to end.
func runSim(t *testing.T, path string, compile FilterCompiler) (typ func(keys ...any), screen func() string, stop func() error) {
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		t.Fatal(err)
	}
	sim.SetSize(120, 40)
	snap := &snapScreen{SimulationScreen: sim}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Path: path, Name: path, Screen: snap, Filter: compile})
	}()
	screen = func() string {
		snap.mu.Lock()
		defer snap.mu.Unlock()
		return snap.text
	}
	typ = func(keys ...any) {
		for _, k := range keys {
			switch k := k.(type) {
			case string:
				for _, r := range k {
					sim.InjectKey(tcell.KeyRune, r, tcell.ModNone)
				}
			case tcell.Key:
				sim.InjectKey(k, 0, tcell.ModNone)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop = func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("the view did not end")
		}
	}
	return typ, screen, stop
}

func waitFor(t *testing.T, screen func() string, want string, gone ...string) string {
	t.Helper()
	var s string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s = screen(); strings.Contains(s, want) && (len(gone) == 0 || !strings.Contains(s, gone[0])) {
			return s
		}
	}
	t.Fatalf("the screen never showed %q:\n%s", want, s)
	return ""
}

// TestFilterKey: '/' applies a filter in a background pass (the list shows
// only the frames it matched, in order), Esc shows every frame again with
// the selection kept, and a filter that does not compile says why.
func TestFilterKey(t *testing.T) {
	compile := func(expr string) (Matcher, error) {
		if expr != "flagged" {
			return nil, errors.New(`"` + expr + `" is not a field`)
		}
		return flagged{}, nil
	}
	typ, screen, stop := runSim(t, "../pcaps/lo-bulk-loss.pcap", compile)
	waitFor(t, screen, " frame 1 of 1400 ")
	typ("/", "nonsense", tcell.KeyEnter)
	waitFor(t, screen, `"nonsense" is not a field`)
	typ("/", "flagged", tcell.KeyEnter)
	s := waitFor(t, screen, " frame 25 of 1400 · flagged: ", "filtering")
	lines := strings.Split(s, "\n")
	if !strings.HasPrefix(lines[0], ">#25 ") || !strings.HasPrefix(lines[1], " #27 ") || !strings.HasPrefix(lines[2], " #28 ") {
		t.Errorf("the filtered list does not start with the flagged frames #25, #27, #28:\n%s", s)
	}
	typ("j", "j")
	waitFor(t, screen, " frame 28 of 1400 · flagged")
	typ(tcell.KeyEscape)
	s = waitFor(t, screen, " frame 28 of 1400 ", "flagged")
	if strings.Contains(s, "flagged:") || !strings.Contains(s, " #27 ") {
		t.Errorf("Esc did not show every frame again around #28:\n%s", s)
	}
	typ("q")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestFeedLive pushes frames of a capture and socket calls into a Feed
// from another goroutine, as demo --tui does: rows appear in time order
// (a call pushed late still lands before the frames after it), the list
// follows the newest row, and Close says the capture stopped.
func TestFeedLive(t *testing.T) {
	f, err := os.Open("../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := replay.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		t.Fatal(err)
	}
	sim.SetSize(120, 40)
	snap := &snapScreen{SimulationScreen: sim}
	screen := func() string { snap.mu.Lock(); defer snap.mu.Unlock(); return snap.text }
	feed := NewFeed()
	done := make(chan error, 1)
	go func() { done <- RunLive(context.Background(), Options{Name: "test", Screen: snap}, Live{Src: feed}) }()
	var t3 time.Time
	for n := 1; n <= 5; n++ {
		fr, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			feed.Call(fr.Meta.Time.Add(-time.Millisecond), "client connect(3, …) = 0")
		}
		if n == 3 {
			t3 = fr.Meta.Time
		}
		feed.Frame(fr)
		time.Sleep(20 * time.Millisecond)
	}
	feed.Call(t3.Add(time.Microsecond), "client write(3, …) = 1448") // late: placed after #3
	s := waitFor(t, screen, "client write(")
	lines := strings.Split(s, "\n")
	want := []string{"client connect(", "#1 ", "#2 ", "#3 ", "client write(", "#4 ", "#5 "}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("row %d is not %q:\n%s", i, w, s)
		}
	}
	if !strings.HasPrefix(lines[6], ">#5 ") {
		t.Errorf("the list does not follow the newest frame:\n%s", s)
	}
	feed.Close()
	waitFor(t, screen, "capture stopped")
	sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the view did not end")
	}
}
