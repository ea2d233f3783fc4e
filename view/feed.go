package view

import (
	"io"
	"sync"
	"time"

	"github.com/tcpscope/tcpscope/frame"
)

// Feed is a live source that is pushed to: frames as they are captured and
// socket calls as they are made (demo --tui). Pushing never blocks the
// pusher (a traced program, the capture): what the view has not taken yet
// waits in the Feed.
type Feed struct {
	mu     sync.Mutex
	items  []feedItem
	closed bool
	wake   chan struct{} // has a value when items or closed changed
	cur    []byte        // the bytes of the frame Next returned last
	sink   func(at time.Time, line string)
}

type feedItem struct {
	f    frame.Frame
	call string
	at   time.Time
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{wake: make(chan struct{}, 1)} }

func (fd *Feed) push(it feedItem) {
	fd.mu.Lock()
	if !fd.closed {
		fd.items = append(fd.items, it)
	}
	fd.mu.Unlock()
	select {
	case fd.wake <- struct{}{}:
	default:
	}
}

// Frame adds a captured frame (its bytes are copied).
func (fd *Feed) Frame(f frame.Frame) {
	f.Data = append([]byte(nil), f.Data...)
	fd.push(feedItem{f: f})
}

// Call adds a socket call: its place on the timeline and its line.
func (fd *Feed) Call(at time.Time, line string) { fd.push(feedItem{call: line, at: at}) }

// Close ends the feed: Next returns io.EOF once the rest is taken.
func (fd *Feed) Close() {
	fd.mu.Lock()
	fd.closed = true
	fd.mu.Unlock()
	select {
	case fd.wake <- struct{}{}:
	default:
	}
}

// Next returns the next frame, handing the calls before it to the sink.
func (fd *Feed) Next() (frame.Frame, error) {
	for {
		fd.mu.Lock()
		if len(fd.items) > 0 {
			it := fd.items[0]
			fd.items[0] = feedItem{}
			fd.items = fd.items[1:]
			sink := fd.sink
			fd.mu.Unlock()
			if it.call != "" {
				if sink != nil {
					sink(it.at, it.call)
				}
				continue
			}
			fd.cur = it.f.Data
			return it.f, nil
		}
		closed := fd.closed
		fd.mu.Unlock()
		if closed {
			return frame.Frame{}, io.EOF
		}
		<-fd.wake
	}
}

// setSink sets where calls go (the index).
func (fd *Feed) setSink(s func(at time.Time, line string)) {
	fd.mu.Lock()
	fd.sink = s
	fd.mu.Unlock()
}
