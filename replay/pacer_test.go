package replay

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when slept on, and oversleeps by lag each time,
// as a loaded machine does.
type fakeClock struct {
	now    time.Time
	lag    time.Duration
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d + c.lag)
	}
	return ctx.Err()
}

// TestPacerNoDrift: 100 frames 10 ms apart at speed 1 on a clock that
// oversleeps 1 ms each time end 1 ms late, not 100 ms: every deadline is
// measured from the start.
func TestPacerNoDrift(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0), lag: time.Millisecond}
	p := &Pacer{Speed: 1, Clock: c}
	start := c.now
	capStart := time.Unix(5, 0)
	for i := 0; i < 100; i++ {
		if err := p.Wait(context.Background(), capStart.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.now.Sub(start), 990*time.Millisecond+time.Millisecond; got != want {
		t.Fatalf("99 intervals of 10 ms took %v, want %v (no accumulated lag)", got, want)
	}
	if c.sleeps[0] != 10*time.Millisecond || c.sleeps[1] != 9*time.Millisecond {
		t.Errorf("sleeps %v…: want 10ms then 9ms (the lag taken back)", c.sleeps[:3])
	}
}

func TestPacerSpeed(t *testing.T) {
	for _, tc := range []struct {
		speed float64
		want  time.Duration
	}{{2, 500 * time.Millisecond}, {0.5, 2 * time.Second}, {1, time.Second}} {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := &Pacer{Speed: tc.speed, Clock: c}
		p.Wait(context.Background(), time.Unix(0, 0))
		p.Wait(context.Background(), time.Unix(1, 0))
		if got := c.now.Sub(time.Unix(1000, 0)); got != tc.want {
			t.Errorf("speed %v: 1 s of capture took %v, want %v", tc.speed, got, tc.want)
		}
	}
	// Speed 0: never waits.
	c := &fakeClock{now: time.Unix(1000, 0)}
	p := &Pacer{Clock: c}
	p.Wait(context.Background(), time.Unix(0, 0))
	p.Wait(context.Background(), time.Unix(100, 0))
	if len(c.sleeps) != 0 {
		t.Errorf("speed 0 slept %v", c.sleeps)
	}
}

// TestPacerCancel: on the real clock, cancelling ends a long wait at once.
func TestPacerCancel(t *testing.T) {
	p := NewPacer(1)
	ctx, cancel := context.WithCancel(context.Background())
	p.Wait(ctx, time.Unix(0, 0))
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := p.Wait(ctx, time.Unix(3600, 0))
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v; want context.Canceled after ~50ms", err, time.Since(start))
	}
}

// TestStepperAppendMode: without a screen to redraw, new segments go to
// Out once, and going back shows the earlier one on the status writer.
func TestStepperAppendMode(t *testing.T) {
	var out, status strings.Builder
	s := &Stepper{Keys: strings.NewReader("\rbb \r\rq"), Out: &out, Status: &status, Total: 9}
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := s.Show(ctx, Shown{Frame: i, Stream: 0, Text: "segment " + string(rune('0'+i)) + "\n"}); err != nil {
			if !errors.Is(err, ErrQuit) || i != 3 {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
	}
	if out.String() != "segment 1\nsegment 2\nsegment 3\n" {
		t.Errorf("out %q", out.String())
	}
	st := status.String()
	for _, want := range []string{"frame 2/9, stream 0 — ", "segment 1\nframe 1/9, stream 0 (1 back)", "frame 3/9, stream 0 — Enter/space next, b back, q quit"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%q", want, st)
		}
	}
}
