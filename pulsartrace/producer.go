package pulsartrace

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/apache/pulsar-client-go/pulsar"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// producer is a pulsar.Producer that starts a send span for every message
// and writes its context into the message's properties.
type producer struct {
	pulsar.Producer
	in *messaging.Instrumenter
	d  *messaging.Destination
	// partitioned is set for a producer of a partitioned topic, whose send
	// spans learn the partition from the message id.
	partitioned bool
}

// WrapProducer returns a pulsar.Producer that sends through p and traces
// every message: Send and SendAsync start a PRODUCER span "send <topic>" as
// a child of the span in the context they are given, and write that span's
// context (W3C traceparent, tracestate and baggage by default) into a copy
// of the message's properties. The caller's *pulsar.ProducerMessage and its
// Properties map are never written. The other methods pass through to p.
//
// Wrapping an already wrapped producer returns it unchanged, so a message
// never gets two send spans. It panics if p is nil.
func WrapProducer(p pulsar.Producer, opts ...asynctrace.Option) pulsar.Producer {
	if p == nil {
		panic("pulsartrace.WrapProducer: producer is nil")
	}
	// Options are checked even when p is already wrapped: a mistake in
	// them is reported wherever it is made.
	cfg, _ := resolve("WrapProducer", opts)
	if w, ok := p.(*producer); ok {
		return w
	}
	return newProducer(p, newInstrumenter(cfg))
}

func newProducer(p pulsar.Producer, in *messaging.Instrumenter) *producer {
	np, _ := p.(interface{ NumPartitions() uint32 })
	return &producer{
		Producer:    p,
		in:          in,
		d:           in.DestinationFor(messaging.Target{Name: destinationName(p.Topic()), ClientID: p.Name()}),
		partitioned: np != nil && np.NumPartitions() > 1,
	}
}

// UnwrapProducer returns the producer that WrapProducer wrapped, or p itself
// when it is not a wrapper.
func UnwrapProducer(p pulsar.Producer) pulsar.Producer {
	if w, ok := p.(*producer); ok {
		return w.Producer
	}
	return p
}

// Send sends msg through the wrapped producer inside a send span, which
// records the message id the broker assigned or the error of the send.
func (p *producer) Send(ctx context.Context, msg *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	if msg == nil {
		// Nothing to trace or inject into; the client reports the error.
		return p.Producer.Send(ctx, msg)
	}
	ctx, send, props := p.in.StartSend(ctx, p.d, msg.Properties, len(msg.Payload))
	id, err := p.Producer.Send(ctx, withProperties(msg, props))
	p.setPartition(send, id)
	send.End(messageIDString(send.Span().IsRecording(), id, err), err)
	return id, err
}

// SendAsync sends msg through the wrapped producer inside a send span that
// ends when the client reports the outcome, just before callback runs:
// once, whether the message was persisted, failed, timed out or was
// refused by a closed producer. callback gets the caller's own msg back.
func (p *producer) SendAsync(ctx context.Context, msg *pulsar.ProducerMessage, callback func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
	if msg == nil {
		p.Producer.SendAsync(ctx, msg, callback)
		return
	}
	ctx, send, props := p.in.StartSend(ctx, p.d, msg.Properties, len(msg.Payload))
	out := withProperties(msg, props)
	if out == msg && !send.Observed() {
		// Nothing to record and the client hands the caller's own msg to
		// the callback: no need to come between them.
		p.Producer.SendAsync(ctx, msg, callback)
		return
	}
	a := &asyncSend{p: p, send: send, msg: msg, callback: callback}
	p.Producer.SendAsync(ctx, out, a.complete)
}

// asyncSend carries a SendAsync's span to the client's callback.
type asyncSend struct {
	p        *producer
	send     messaging.Send
	msg      *pulsar.ProducerMessage
	callback func(pulsar.MessageID, *pulsar.ProducerMessage, error)
	done     atomic.Bool
}

func (a *asyncSend) complete(id pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
	// The client promises one call per message; a second one must not end
	// the span twice, but still reaches the caller as the client made it.
	if a.done.CompareAndSwap(false, true) {
		a.p.setPartition(a.send, id)
		a.send.End(messageIDString(a.send.Span().IsRecording(), id, err), err)
	}
	if a.callback != nil {
		a.callback(id, a.msg, err)
	}
}

// withProperties returns msg itself when props is its own map (nothing was
// injected), or a shallow copy of msg that carries props, so the caller's
// message is never written.
func withProperties(msg *pulsar.ProducerMessage, props map[string]string) *pulsar.ProducerMessage {
	if messaging.SameMap(props, msg.Properties) {
		return msg
	}
	cp := *msg
	cp.Properties = props
	return &cp
}

// messageIDString formats id for the span, only when the span records it:
// formatting allocates.
func messageIDString(recording bool, id pulsar.MessageID, err error) string {
	if !recording || err != nil || id == nil {
		return ""
	}
	return formatMessageID(id)
}

// setPartition records the partition a message of a partitioned topic went
// to, which is known only once it was sent.
func (p *producer) setPartition(send messaging.Send, id pulsar.MessageID) {
	if !p.partitioned || id == nil {
		return
	}
	if span := send.Span(); span.IsRecording() {
		span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(id.PartitionIdx()))))
	}
}
