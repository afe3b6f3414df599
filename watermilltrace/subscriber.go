package watermilltrace

import (
	"context"
	"errors"
	"reflect"
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
// the subscriber is closed, end as abandoned. One goroutine per subscription
// watches the settlements, with no goroutine per message.
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

	waiting   delivery // read, not yet handed over (msg != nil)
	unsettled []delivery
	cases     []reflect.SelectCase
}

type event uint8

const (
	evStop event = iota
	evReceived
	evSourceClosed
	evHandedOver
	evAcked
	evNacked
)

func (f *forwarder) run() {
	for {
		ev, i, msg := f.next()
		switch ev {
		case evReceived:
			f.start(msg)
		case evHandedOver:
			f.unsettled = append(f.unsettled, f.waiting)
			f.waiting = delivery{}
			if len(f.unsettled) > f.maxUnsettled {
				f.unsettled[0].proc.End(messaging.SettleAbandoned, nil)
				f.unsettled = f.unsettled[1:]
			}
		case evAcked, evNacked:
			s := messaging.SettleAck
			if ev == evNacked {
				s = messaging.SettleNack
			}
			f.unsettled[i].proc.End(s, nil)
			f.unsettled = append(f.unsettled[:i], f.unsettled[i+1:]...)
		case evSourceClosed:
			f.stop()
			return
		case evStop:
			f.stop()
			// Whatever the wrapped subscriber still sends was never seen by
			// the consumer: nack it so that it is delivered again, until the
			// wrapped subscriber closes its channel as its contract says. A
			// nil channel has nothing and is never closed.
			if f.src == nil {
				return
			}
			for m := range f.src {
				if m != nil {
					m.Nack()
				}
			}
			return
		}
	}
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

// stop ends every span still open and closes the returned channel.
func (f *forwarder) stop() {
	if f.waiting.msg != nil {
		f.waiting.msg.Nack()
		f.waiting.proc.End(messaging.SettleAbandoned, nil)
		f.waiting = delivery{}
	}
	for _, d := range f.unsettled {
		d.proc.End(messaging.SettleAbandoned, nil)
	}
	f.unsettled = nil
	close(f.out)
}

// next waits for the next thing to happen: a message from the wrapped
// channel (or a message handed over to the consumer, while one waits), a
// settlement, the end of the subscription. i is the index in f.unsettled of
// a settled message.
func (f *forwarder) next() (ev event, i int, msg *message.Message) {
	var src <-chan *message.Message
	var out chan<- *message.Message
	if f.waiting.msg != nil {
		out = f.out
	} else {
		src = f.src
	}
	if len(f.unsettled) > 1 {
		return f.nextReflect(src, out)
	}
	// One unsettled message at a time is the common case (most subscribers
	// send the next message only after the previous one is settled); a
	// plain select serves it without reflection.
	var acked, nacked <-chan struct{}
	if len(f.unsettled) == 1 {
		acked, nacked = f.unsettled[0].acked, f.unsettled[0].nacked
	}
	select {
	case <-f.closing:
		return evStop, 0, nil
	case <-f.done:
		return evStop, 0, nil
	case m, ok := <-src:
		if !ok {
			return evSourceClosed, 0, nil
		}
		return evReceived, 0, m
	case out <- f.waiting.msg:
		return evHandedOver, 0, nil
	case <-acked:
		return evAcked, 0, nil
	case <-nacked:
		return evNacked, 0, nil
	}
}

// Fixed positions in forwarder.cases; the settlement channels of unsettled
// message i follow at fixedCases+2i (acked) and fixedCases+2i+1 (nacked).
const (
	caseClosing = iota
	caseDone
	caseSource
	caseOut
	fixedCases
)

func (f *forwarder) nextReflect(src <-chan *message.Message, out chan<- *message.Message) (event, int, *message.Message) {
	f.cases = f.cases[:0]
	f.cases = append(f.cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(f.closing)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(f.done)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(src)},
		reflect.SelectCase{Dir: reflect.SelectSend, Chan: reflect.ValueOf(out), Send: reflect.ValueOf(f.waiting.msg)},
	)
	for _, d := range f.unsettled {
		f.cases = append(f.cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(d.acked)},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(d.nacked)},
		)
	}
	chosen, v, ok := reflect.Select(f.cases)
	switch chosen {
	case caseClosing, caseDone:
		return evStop, 0, nil
	case caseSource:
		if !ok {
			return evSourceClosed, 0, nil
		}
		m, _ := v.Interface().(*message.Message)
		return evReceived, 0, m
	case caseOut:
		return evHandedOver, 0, nil
	}
	i := (chosen - fixedCases) / 2
	if (chosen-fixedCases)%2 == 0 {
		return evAcked, i, nil
	}
	return evNacked, i, nil
}
