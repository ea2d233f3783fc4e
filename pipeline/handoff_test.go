package pipeline

import (
	"runtime"
	"testing"
	"time"
)

// TestHandoffInOrder: batches sent with polling arrive in order, whether
// the receiver polls or blocks at once, and a closed channel ends it.
func TestHandoffInOrder(t *testing.T) {
	for _, tries := range []int{0, 1, handoffTries} {
		ch := make(chan *batch, 2)
		sent := make([]*batch, 100)
		go func() {
			for i := range sent {
				sent[i] = &batch{items: make([]Item, i)}
				if !sendBatch(ch, sent[i], nil, tries) {
					t.Error("send stopped without a stop channel")
				}
			}
			close(ch)
		}()
		for i := 0; ; i++ {
			b, ok, stopped := recvBatch(ch, nil, tries)
			if stopped {
				t.Fatalf("tries %d: receive stopped without a stop channel", tries)
			}
			if !ok {
				if i != len(sent) {
					t.Fatalf("tries %d: channel closed after %d batches, want %d", tries, i, len(sent))
				}
				break
			}
			if len(b.items) != i {
				t.Fatalf("tries %d: batch %d arrived as number %d", tries, len(b.items), i)
			}
		}
	}
}

// TestHandoffStops: closing stop ends a receive or a send that polls or
// blocks, and nothing is received or sent.
func TestHandoffStops(t *testing.T) {
	for _, tries := range []int{0, handoffTries, 1 << 30} {
		stop := make(chan struct{})
		empty := make(chan *batch)
		full := make(chan *batch) // unbuffered and never received from
		got := make(chan string, 2)
		go func() {
			b, ok, stopped := recvBatch(empty, stop, tries)
			if !stopped || ok || b != nil {
				got <- "receive: not stopped"
				return
			}
			got <- ""
		}()
		go func() {
			if sendBatch(full, &batch{}, stop, tries) {
				got <- "send: sent"
				return
			}
			got <- ""
		}()
		time.Sleep(10 * time.Millisecond) // both are polling or blocked by now
		close(stop)
		for range 2 {
			select {
			case msg := <-got:
				if msg != "" {
					t.Fatalf("tries %d: %s", tries, msg)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("tries %d: a hand-off did not notice stop", tries)
			}
		}
	}
}

// TestPollTriesFollowsCores: polling keeps a second core awake; on one core
// it only delays the goroutine with work, so the pipeline blocks at once.
func TestPollTriesFollowsCores(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	if n := pollTries(); n != 0 {
		t.Errorf("GOMAXPROCS=1: pollTries() = %d, want 0", n)
	}
	runtime.GOMAXPROCS(2)
	if n := pollTries(); n != handoffTries {
		t.Errorf("GOMAXPROCS=2: pollTries() = %d, want %d", n, handoffTries)
	}
}
