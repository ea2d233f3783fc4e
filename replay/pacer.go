package replay

import (
	"context"
	"time"
)

// Clock is the time source a Pacer waits on. It is an interface so tests
// can run a pacer on a fake clock and check its arithmetic without sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d, returning early with ctx.Err() when ctx is cancelled.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pacer plays frames back at the pace they were captured, scaled by Speed.
//
// Every deadline is computed from the first frame's timestamp and the wall
// time at which it was released, never from the previous frame: a sleep
// that overshoots by a millisecond then shortens the next one instead of
// shifting everything after it, so a long capture does not drift.
type Pacer struct {
	// Speed is the playback factor: 1 plays in real time, 2 twice as
	// fast, 0.5 at half speed. Zero or less means no waiting at all.
	Speed float64
	// Clock is the time source; nil means the wall clock.
	Clock Clock

	started   bool
	wallStart time.Time // when the first frame was released
	capStart  time.Time // the first frame's capture timestamp
}

// NewPacer returns a pacer at the given speed on the wall clock.
func NewPacer(speed float64) *Pacer { return &Pacer{Speed: speed} }

func (p *Pacer) clock() Clock {
	if p.Clock == nil {
		return RealClock{}
	}
	return p.Clock
}

// Wait blocks until the frame captured at t is due, then returns nil. The
// first call returns at once and fixes the start. It returns ctx.Err() as
// soon as ctx is cancelled. Timestamps earlier than an already released
// frame's (out of order in the file) are due at once.
func (p *Pacer) Wait(ctx context.Context, t time.Time) error {
	if p == nil || p.Speed <= 0 {
		return ctx.Err()
	}
	c := p.clock()
	if !p.started {
		p.started, p.wallStart, p.capStart = true, c.Now(), t
		return ctx.Err()
	}
	return c.Sleep(ctx, p.Until(t, c.Now()))
}

// Until returns how long after now the frame captured at t is due (zero or
// negative when already due). It is only meaningful after the first Wait.
func (p *Pacer) Until(t, now time.Time) time.Duration {
	offset := time.Duration(float64(t.Sub(p.capStart)) / p.Speed)
	return p.wallStart.Add(offset).Sub(now)
}
