package pubsubtrace

import (
	"context"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Handler is the callback [pubsub.Subscriber.Receive] takes.
type Handler = func(context.Context, *pubsub.Message)

// WrapHandler returns a Receive callback that runs h inside a CONSUMER span
// "process <subscription>": a child of the span that published the message
// (or, with asynctrace.WithLinkToProducer, linked to it), carrying
// messaging.destination.subscription.name, the message ID, the ordering key
// and the delivery attempt when set. The ctx given to h carries the span and
// the baggage the publisher sent.
//
// The span ends when h returns. [pubsub.Message] does not let a wrapper see
// whether h called Ack or Nack; call [Ack] and [Nack] of this package instead
// and the span records the settlement (asynctrace.message.settlement), with
// the settle metrics and, with asynctrace.WithSettleSpans, a settle span.
// With asynctrace.WithLinkAfter, the message's PublishTime decides whether
// the process span is linked instead of parented. A message whose trace context is missing, malformed or
// oversized is processed like any other, without a remote parent.
//
//	err := sub.Receive(ctx, pubsubtrace.WrapHandler(sub, func(ctx context.Context, m *pubsub.Message) {
//		...
//		pubsubtrace.Ack(ctx, m)
//	}))
//
// sub names the subscription of the spans; it panics if sub or h is nil.
func WrapHandler(sub *pubsub.Subscriber, h Handler, opts ...asynctrace.Option) Handler {
	if sub == nil {
		panic("pubsubtrace.WrapHandler: subscriber is nil")
	}
	if h == nil {
		panic("pubsubtrace.WrapHandler: handler is nil")
	}
	name := parseResourceName(sub.String(), "subscriptions")
	in, _ := newInstrumenter("WrapHandler", opts, projectAttributes(name.project)...)
	// The subscriber does not know the topic; the conventions' Pub/Sub
	// examples name the subscription as the consumer's destination.
	dest := in.Destination(name.id, name.id, "")
	return func(ctx context.Context, m *pubsub.Message) {
		ctx, proc := in.StartProcessAt(ctx, dest, m.Attributes, m.ID, len(m.Data), m.PublishTime)
		if span := proc.Span(); span.IsRecording() {
			attempt := 0
			if m.DeliveryAttempt != nil {
				attempt = *m.DeliveryAttempt
			}
			setMessageAttributes(span, m.OrderingKey, attempt)
		}
		sc := &settleContext{Context: ctx, state: settleState{in: in, dest: dest, proc: proc}}
		st := &sc.state
		ctx = sc
		messaging.Guard(func() { h(ctx, m) }, func(abort error) { proc.End(st.settlement(), abort) })
		proc.End(st.settlement(), nil)
	}
}

// settleContext is the handler's context: the process span's context plus
// the settlement state Ack and Nack write. One allocation serves both,
// where context.WithValue would add a second.
type settleContext struct {
	context.Context
	state settleState
}

// settleKey finds the settleState of the message being processed.
type settleKey struct{}

// Value returns the settlement state for settleKey and defers to the
// wrapped context otherwise.
func (c *settleContext) Value(key any) any {
	if key == (settleKey{}) {
		return &c.state
	}
	return c.Context.Value(key)
}

// settleState is how the handler settled its message, as told by Ack and
// Nack.
type settleState struct {
	in    *messaging.Instrumenter
	dest  *messaging.Destination
	proc  messaging.Process
	value atomic.Uint32 // a messaging.Settlement
}

func (s *settleState) settlement() messaging.Settlement {
	return messaging.Settlement(s.value.Load())
}

// Ack acknowledges m and, when ctx is the context [WrapHandler] gave the
// handler, records the settlement on the process span and in the
// messaging.client.operation.duration metric. With any other ctx it is
// m.Ack().
func Ack(ctx context.Context, m *pubsub.Message) {
	settle(ctx, m, messaging.SettleAck)
}

// Nack negatively acknowledges m, so that Pub/Sub redelivers it, and records
// the settlement as [Ack] does.
func Nack(ctx context.Context, m *pubsub.Message) {
	settle(ctx, m, messaging.SettleNack)
}

func settle(ctx context.Context, m *pubsub.Message, s messaging.Settlement) {
	st, _ := ctx.Value(settleKey{}).(*settleState)
	var start time.Time
	if st != nil {
		start = st.in.Now(ctx)
	}
	if s == messaging.SettleAck {
		m.Ack()
	} else {
		m.Nack()
	}
	if st == nil {
		return
	}
	// The first settlement is the one Pub/Sub honours.
	st.value.CompareAndSwap(uint32(messaging.SettleNone), uint32(s))
	st.in.Settled(st.dest, s, start, nil, st.proc)
}
