package watermilltrace

import (
	"context"
	"errors"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ErrSubscriberClosed is returned by Subscribe on a subscriber from
// [WrapSubscriber] after its Close was called.
var ErrSubscriberClosed = errors.New("watermilltrace: subscriber closed")

// WrapSubscriber returns a subscriber for code that reads a subscriber's
// channel itself, without a router (with a router, use [NewMiddleware]
// instead, not both).
//
// Every message read from the returned channel has a CONSUMER span
// "process <topic>" in its context, a child of the producer's send span (or
// linked to it, with asynctrace.WithLinkToProducer). The span ends when the
// message is acked or nacked, recording which of the two happened; spans of
// messages still unsettled when the subscription's channel closes, or when
// the subscriber is closed, end as abandoned. Each span ends within a
// scheduling delay of its message's settlement, in whatever order the
// messages are settled, and Close returns once every span has ended.
//
// Messages keep their order, and the returned channel is unbuffered: the
// next message is read from the wrapped subscriber only once the previous
// one was handed over. A message read but not handed over
// because the subscription ends is nacked, so the broker delivers it again.
// At most [DefaultMaxUnsettled] messages are watched ([WithMaxUnsettled]).
//
// Wrapping an already wrapped subscriber returns it unchanged. It panics if
// sub is nil.
func WrapSubscriber(sub message.Subscriber, opts ...asynctrace.Option) message.Subscriber {
	if sub == nil {
		panic("watermilltrace.WrapSubscriber: subscriber is nil")
	}
	in, s := newInstrumenter("WrapSubscriber", opts)
	if w, ok := sub.(*subscriber); ok {
		return w
	}
	return &subscriber{sub: sub, in: in, maxUnsettled: s.maxUnsettled, group: s.consumerGroup, closing: make(chan struct{})}
}

type subscriber struct {
	sub          message.Subscriber
	in           *messaging.Instrumenter
	maxUnsettled int
	group        string

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

// Subscribe subscribes to topic on the wrapped subscriber and returns a
// channel of its messages, each carrying its process span in its context.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrSubscriberClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()

	msgs, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		s.wg.Done()
		return nil, err
	}
	out := make(chan *message.Message)
	f := &forwarder{
		in:           s.in,
		maxUnsettled: s.maxUnsettled,
		dest:         s.in.DestinationFor(messaging.Target{Name: topic, ConsumerGroup: s.group}),
		src:          msgs,
		out:          out,
		done:         ctx.Done(),
		closing:      s.closing,
	}
	go func() {
		defer s.wg.Done()
		f.run()
	}()
	return out, nil
}

// SubscribeInitialize calls the wrapped subscriber's SubscribeInitialize,
// if it has one; without one there is nothing to initialize.
func (s *subscriber) SubscribeInitialize(topic string) error {
	if si, ok := s.sub.(message.SubscribeInitializer); ok {
		return si.SubscribeInitialize(topic)
	}
	return nil
}

// Close closes the wrapped subscriber, ends the spans of unsettled messages
// and waits for the subscriptions' goroutines to finish.
func (s *subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	err := s.sub.Close()
	s.wg.Wait()
	return err
}

// delivery is a message whose process span has started.
type delivery struct {
	msg           *message.Message
	acked, nacked <-chan struct{}
	proc          messaging.Process
}

// forwarder moves the messages of one subscription from the wrapped channel
// to the returned one and ends their spans as they are settled.
type forwarder struct {
	in           *messaging.Instrumenter
	maxUnsettled int
	dest         *messaging.Destination
	src          <-chan *message.Message
	out          chan *message.Message
	done         <-chan struct{}
	closing      <-chan struct{}

	waiting delivery // read, not yet handed over (msg != nil)

	// The messages handed over and not yet settled, oldest first, each
	// watched by a goroutine of its own; mu guards the list.
	mu       sync.Mutex
	head     *watched
	tail     *watched
	watching int
	watchers sync.WaitGroup
}

// watched is a message handed over to the consumer and not yet settled.
type watched struct {
	proc          messaging.Process
	acked, nacked <-chan struct{}
	stop          chan struct{} // closed when the message stops being watched
	prev, next    *watched
	listed        bool
}

func (f *forwarder) run() {
	for {
		var src <-chan *message.Message
		var out chan<- *message.Message
		if f.waiting.msg != nil {
			out = f.out
		} else {
			src = f.src
		}
		select {
		case <-f.closing:
			f.stop()
			f.drain()
			return
		case <-f.done:
			f.stop()
			f.drain()
			return
		case m, ok := <-src:
			if !ok {
				f.stop()
				return
			}
			f.start(m)
		case out <- f.waiting.msg:
			f.watch(f.waiting)
			f.waiting = delivery{}
		}
	}
}

// drain nacks whatever the wrapped subscriber still sends after the
// subscription ended, which the consumer never saw, so that it is delivered
// again, until the wrapped subscriber closes its channel as its contract
// says. A nil channel has nothing and is never closed.
func (f *forwarder) drain() {
	if f.src == nil {
		return
	}
	for m := range f.src {
		if m != nil {
			m.Nack()
		}
	}
}

// watch starts the goroutine that ends d's span when d is settled, and
// stops watching the oldest message once more than maxUnsettled are.
//
// A goroutine per unsettled message costs less CPU per message than one
// select over the channels of all of them, which has to be rebuilt on
// every message and settlement (docs/benchmarks.md); it costs a goroutine
// stack per unsettled message, which maxUnsettled bounds.
func (f *forwarder) watch(d delivery) {
	w := &watched{proc: d.proc, acked: d.acked, nacked: d.nacked, stop: make(chan struct{}), listed: true}
	var evicted *watched
	f.mu.Lock()
	if f.tail == nil {
		f.head = w
	} else {
		f.tail.next, w.prev = w, f.tail
	}
	f.tail = w
	f.watching++
	if f.watching > f.maxUnsettled {
		evicted = f.head
		f.unlist(evicted)
	}
	f.mu.Unlock()
	if evicted != nil {
		close(evicted.stop)
		evicted.proc.End(evicted.settlement(), nil)
	}
	f.watchers.Add(1)
	go f.await(w, d.acked, d.nacked)
}

// settlement is how a message that stops being watched was settled: acked
// or nacked if that happened already (its watcher may have seen it a moment
// too late to end the span), abandoned otherwise.
func (w *watched) settlement() messaging.Settlement {
	select {
	case <-w.acked:
		return messaging.SettleAck
	default:
	}
	select {
	case <-w.nacked:
		return messaging.SettleNack
	default:
	}
	return messaging.SettleAbandoned
}

// await ends w's span when the message is settled, unless it stopped being
// watched first.
func (f *forwarder) await(w *watched, acked, nacked <-chan struct{}) {
	defer f.watchers.Done()
	s := messaging.SettleAck
	select {
	case <-acked:
	case <-nacked:
		s = messaging.SettleNack
	case <-w.stop:
		return
	}
	f.mu.Lock()
	listed := w.listed
	if listed {
		f.unlist(w)
	}
	f.mu.Unlock()
	if listed {
		w.proc.End(s, nil)
	}
}

// unlist removes w from the watched messages; f.mu is held.
func (f *forwarder) unlist(w *watched) {
	if w.prev == nil {
		f.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		f.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.listed = nil, nil, false
	f.watching--
}

// stop ends every span still open, waits for the watching goroutines
// and closes the returned channel.
func (f *forwarder) stop() {
	if f.waiting.msg != nil {
		f.waiting.msg.Nack()
		f.waiting.proc.End(messaging.SettleAbandoned, nil)
		f.waiting = delivery{}
	}
	f.mu.Lock()
	var rest []*watched
	for f.head != nil {
		w := f.head
		f.unlist(w)
		rest = append(rest, w)
	}
	f.mu.Unlock()
	for _, w := range rest {
		close(w.stop)
		w.proc.End(w.settlement(), nil)
	}
	f.watchers.Wait()
	close(f.out)
}

// start begins the process span of a message read from the wrapped channel.
func (f *forwarder) start(msg *message.Message) {
	if msg == nil {
		return
	}
	ctx, proc := f.in.StartProcess(msg.Context(), f.dest, msg.Metadata, msg.UUID, len(msg.Payload))
	msg.SetContext(ctx)
	// The channels are read before the message is handed over: Ack on a
	// message built without NewMessage sets them, which must not race.
	f.waiting = delivery{msg: msg, acked: msg.Acked(), nacked: msg.Nacked(), proc: proc}
}
