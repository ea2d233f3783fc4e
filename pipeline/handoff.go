package pipeline

import "runtime"

// Hand-offs between the parallel pipeline's goroutines (the reader, the
// analyser, the caller), which pass batches over channels.
//
// A goroutine that finds nothing to receive, or no room to send, first
// polls: it yields its core (runtime.Gosched) and tries again, up to
// handoffTries times, and only then blocks on the channel. Why: a goroutine
// blocked on a channel is woken by the one that sends to it, which puts it
// in its own core's run queue; the other core, idle by then, has to wake
// its parked thread and steal the goroutine, and the runtime steals a
// just-woken goroutine from a busy core only after backing off. Traced on
// make bench's bulk.pcap (runtime/trace, 2 cores), replay had one core
// idle while a goroutine was ready to run 2 200 times a run, a median of
// 38 µs each: 95 ms, 16 % of the run. While a goroutine polls, its
// partner's send or receive goes through the channel's buffer and wakes
// nobody, and the polling costs little CPU: Gosched lets any goroutine
// with work run first, and with none the core would have been idle. Polling
// every hand-off made replay of bulk.pcap 7 % faster (0.58 -> 0.54 s),
// stats and --json 3-4 %, with no more CPU time. The bound keeps a
// pipeline whose caller stops reading (a pager, a slow pipe) from spinning:
// after about a hundred microseconds of polling it blocks as before. On a
// single core (GOMAXPROCS=1) there is no other core to keep awake, and
// polling only delays the goroutine with work (4 % slower): the pipeline
// then blocks at once (pollTries).
const handoffTries = 256

// pollTries is how many times a hand-off polls: handoffTries when there
// is more than one core to run the goroutines, none otherwise.
func pollTries() int {
	if runtime.GOMAXPROCS(0) > 1 {
		return handoffTries
	}
	return 0
}

// recvBatch receives a batch from ch, polling up to tries times before it
// blocks. stopped is true when stop was closed first (a nil stop never is).
func recvBatch(ch <-chan *batch, stop <-chan struct{}, tries int) (b *batch, ok, stopped bool) {
	for range tries {
		select {
		case b, ok = <-ch:
			return b, ok, false
		case <-stop:
			return nil, false, true
		default:
		}
		runtime.Gosched()
	}
	select {
	case b, ok = <-ch:
		return b, ok, false
	case <-stop:
		return nil, false, true
	}
}

// sendBatch sends b on ch, polling up to tries times before it blocks. It
// reports false when stop was closed first.
func sendBatch(ch chan<- *batch, b *batch, stop <-chan struct{}, tries int) bool {
	for range tries {
		select {
		case ch <- b:
			return true
		case <-stop:
			return false
		default:
		}
		runtime.Gosched()
	}
	select {
	case ch <- b:
		return true
	case <-stop:
		return false
	}
}
