package pubsubtrace

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ErrAbandoned ends the send span of a message whose publish had not
// completed when [Publisher.Shutdown] gave up waiting. The message may still
// have been published.
var ErrAbandoned = errors.New("pubsubtrace: publisher shut down before the publish completed")

// staticWindow is how many outstanding results the watcher waits on with an
// ordinary select, which costs no allocation; longer queues use
// reflect.Select over reflectWindow results.
const (
	staticWindow  = 8
	reflectWindow = 256
	// sweepLimit bounds the results checked on each wake-up, so that a
	// very long queue does not make every wake-up slow. Results past it are
	// checked once the queue has shortened.
	sweepLimit = 4096
	// sweepInterval bounds how late a span ends when its result lies
	// outside the window while the results in the window stay in flight
	// (a retried publish, a stalled ordering key): the whole queue is
	// swept at this interval while it is longer than the window.
	sweepInterval = 10 * time.Millisecond
)

// result is a publish result: *pubsub.PublishResult, or a stand-in in
// tests and benchmarks.
type result interface {
	Ready() <-chan struct{}
	Get(ctx context.Context) (string, error)
}

// pendingSend is a publish whose span ends when its result is ready.
type pendingSend struct {
	res  result
	send messaging.Send
}

// watcher ends the send spans of a publisher's messages as their publish
// results become ready, whether or not anyone calls Get. One goroutine per
// publisher waits on the oldest outstanding results at once and, on every
// wake-up, ends all results that are ready, so each span ends within a
// scheduling delay of its publish completing, in whatever order the client
// completes them; past reflectWindow outstanding results, within
// sweepInterval.
//
// A goroutine per outstanding result would be simpler, but measured
// against it (docs/benchmarks.md) this takes a quarter less CPU per
// sampled publish with a batch of 100 in flight, and five times less for
// the watching alone, since the client settles a whole batch at once and
// one wake-up ends all of it; nor does it keep a goroutine stack per
// publish in flight.
type watcher struct {
	mu       sync.Mutex
	incoming []pendingSend
	started  bool
	closed   bool
	// abandoned records that abandon is closed, so that concurrent
	// Shutdowns close it only once.
	abandoned bool

	// needWake tells add whether a new result should wake the goroutine:
	// not while it already waits on a full window, since a new result
	// would fall outside it anyway and is picked up on the next wake-up.
	needWake atomic.Bool

	wake    chan struct{} // new results or close; capacity 1
	abandon chan struct{} // closed to end every outstanding span now
	done    chan struct{} // closed when the goroutine has ended
}

func newWatcher() *watcher {
	return &watcher{
		wake:    make(chan struct{}, 1),
		abandon: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// add hands a result to the watcher, starting its goroutine on first use.
// A result that is already ready is ended at once, without a wake-up.
func (w *watcher) add(res result, send messaging.Send) {
	select {
	case <-res.Ready():
		endSend(res, send)
		return
	default:
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		// The publisher was stopped after this message's publish began; the
		// result is settled by now unless Shutdown gave up waiting.
		select {
		case <-res.Ready():
			endSend(res, send)
		default:
			send.End("", ErrAbandoned)
		}
		return
	}
	w.incoming = append(w.incoming, pendingSend{res: res, send: send})
	if !w.started {
		w.started = true
		w.needWake.Store(true)
		go w.run()
	}
	w.mu.Unlock()
	if w.needWake.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// close makes the goroutine end once every outstanding result is ready, and
// ends it at once (ending the spans with ErrAbandoned) when abandon is true.
// It returns a channel closed when the goroutine has ended.
func (w *watcher) close(abandon bool) <-chan struct{} {
	w.mu.Lock()
	started, wasClosed := w.started, w.closed
	w.closed = true
	if abandon && !w.abandoned {
		w.abandoned = true
		close(w.abandon)
	}
	w.mu.Unlock()
	if !started {
		if !wasClosed {
			close(w.done)
		}
		return w.done
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return w.done
}

func endSend(res result, send messaging.Send) {
	// Ready is closed, so Get returns at once.
	id, err := res.Get(context.Background())
	send.End(id, err)
}

func (w *watcher) run() {
	defer close(w.done)
	var (
		queue, spare []pendingSend
		cases        []reflect.SelectCase
		timer        *time.Timer
		// resultFired is set when a result woke the goroutine: then the
		// whole queue is swept, since the client settles a batch at once.
		// After a wake-up for new results only those are checked.
		resultFired = true
	)
	for {
		w.mu.Lock()
		spare, w.incoming = w.incoming, spare[:0]
		closed := w.closed
		w.mu.Unlock()
		from := len(queue)
		if resultFired {
			from = 0
		}
		queue = append(queue, spare...)
		clear(spare)

		select {
		case <-w.abandon:
			for _, p := range queue {
				p.send.End("", ErrAbandoned)
			}
			clear(queue)
			w.abandonIncoming()
			return
		default:
		}

		queue = sweep(queue, from)
		if len(queue) == 0 && closed {
			return
		}
		// Announce whether new results need a wake-up, then look once more
		// for results handed over meanwhile: add stores its result before
		// reading needWake, so none is left unwatched.
		w.needWake.Store(len(queue) < reflectWindow)
		w.mu.Lock()
		pending := len(w.incoming) > 0
		w.mu.Unlock()
		if pending {
			resultFired = false
			continue
		}
		switch {
		case len(queue) == 0:
			select {
			case <-w.wake:
			case <-w.abandon:
			}
			resultFired = false
		case len(queue) <= staticWindow:
			resultFired = w.waitStatic(queue)
		default:
			// Results past the window, and new ones, which do not wake
			// the goroutine once the window is full, are not waited on: a
			// timer makes sure they are swept even while the window stays
			// quiet.
			var tick <-chan time.Time
			if len(queue) >= reflectWindow {
				if timer == nil {
					timer = time.NewTimer(sweepInterval)
				} else {
					timer.Reset(sweepInterval)
				}
				tick = timer.C
			}
			cases, resultFired = w.waitReflect(queue, cases, tick)
		}
	}
}

// abandonIncoming ends the spans of results handed over after the last
// hand-off; add refuses new ones once closed is set.
func (w *watcher) abandonIncoming() {
	w.mu.Lock()
	rest := w.incoming
	w.incoming = nil
	w.mu.Unlock()
	for _, p := range rest {
		p.send.End("", ErrAbandoned)
	}
}

// sweep ends every ready result from index from on, checking at most
// sweepLimit, and returns the others, oldest first.
func sweep(queue []pendingSend, from int) []pendingSend {
	kept := queue[:from]
	for i, p := range queue[from:] {
		if i < sweepLimit {
			select {
			case <-p.res.Ready():
				endSend(p.res, p.send)
				continue
			default:
			}
		}
		kept = append(kept, p)
	}
	clear(queue[len(kept):])
	return kept
}

// waitStatic waits for one of up to staticWindow results, a wake-up or
// abandon, and reports whether a result fired. A nil channel never fires,
// so unused cases stay silent.
func (w *watcher) waitStatic(queue []pendingSend) bool {
	var ch [staticWindow]<-chan struct{}
	for i := range min(len(queue), staticWindow) {
		ch[i] = queue[i].res.Ready()
	}
	select {
	case <-ch[0]:
	case <-ch[1]:
	case <-ch[2]:
	case <-ch[3]:
	case <-ch[4]:
	case <-ch[5]:
	case <-ch[6]:
	case <-ch[7]:
	case <-w.wake:
		return false
	case <-w.abandon:
		return false
	}
	return true
}

// waitReflect waits for one of the oldest reflectWindow results, a wake-up,
// abandon or tick, and reports whether a result fired or the tick did (both
// call for a sweep of the whole queue). A nil tick never fires. It reuses
// cases between calls.
func (w *watcher) waitReflect(queue []pendingSend, cases []reflect.SelectCase, tick <-chan time.Time) ([]reflect.SelectCase, bool) {
	cases = append(cases[:0],
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.wake)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.abandon)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(tick)},
	)
	for i := range min(len(queue), reflectWindow) {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(queue[i].res.Ready())})
	}
	chosen, _, _ := reflect.Select(cases)
	return cases, chosen >= 2
}
