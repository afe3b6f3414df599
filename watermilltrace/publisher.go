package watermilltrace

import (
	"context"
	"errors"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ErrNilPublisher is returned by the decorator from
// [NewPublisherDecorator] when the router hands it a nil publisher.
var ErrNilPublisher = errors.New("watermilltrace: the publisher to decorate is nil")

// WrapPublisher returns a publisher that traces every message published
// through pub: each message gets its own PRODUCER span "send <topic>", a
// child of the span in msg.Context(), and carries that span's context in
// its metadata so that the consumer continues the trace.
//
// A message's Metadata field is replaced by a copy holding the injected
// keys; the map the caller filled is never written. Publish returns pub's
// error unchanged, and records it on the span of every message of the call.
//
// Wrapping an already wrapped publisher returns it unchanged. It panics if
// pub is nil.
func WrapPublisher(pub message.Publisher, opts ...asynctrace.Option) message.Publisher {
	if pub == nil {
		panic("watermilltrace.WrapPublisher: publisher is nil")
	}
	in, _ := newInstrumenter("WrapPublisher", opts)
	if w, ok := pub.(*publisher); ok {
		return w
	}
	return &publisher{pub: pub, in: in}
}

// NewPublisherDecorator returns a decorator for Router.AddPublisherDecorators
// that wraps each handler's publisher as [WrapPublisher] does, so the
// messages a handler returns are traced when the router publishes them.
// A publisher already wrapped by [WrapPublisher] is left as it is, so a
// message never gets two send spans.
func NewPublisherDecorator(opts ...asynctrace.Option) message.PublisherDecorator {
	in, _ := newInstrumenter("NewPublisherDecorator", opts)
	return func(pub message.Publisher) (message.Publisher, error) {
		if pub == nil {
			return nil, ErrNilPublisher
		}
		if w, ok := pub.(*publisher); ok {
			return w, nil // already traced: one send span per message
		}
		return &publisher{pub: pub, in: in}, nil
	}
}

type publisher struct {
	pub message.Publisher
	in  *messaging.Instrumenter
}

// inlineSends is how many sends of one Publish call are kept on the stack;
// larger calls allocate a slice.
const inlineSends = 4

// Publish starts one send span per message, publishes them all with one call
// to the wrapped publisher, and ends the spans with that call's result.
func (p *publisher) Publish(topic string, messages ...*message.Message) error {
	d := p.in.Destination(topic, "", "")
	var buf [inlineSends]messaging.Send
	sends := buf[:0]
	if len(messages) > inlineSends {
		sends = make([]messaging.Send, 0, len(messages))
	}
	for _, msg := range messages {
		if msg == nil {
			// Kept in place so the wrapped publisher reports it as it would
			// without tracing.
			sends = append(sends, messaging.Send{})
			continue
		}
		_, send, md := p.in.StartSend(parentContext(p.in, msg), d, msg.Metadata, len(msg.Payload))
		msg.Metadata = md
		sends = append(sends, send)
	}
	err := p.pub.Publish(topic, messages...)
	for i, send := range sends {
		if messages[i] != nil {
			send.End(messages[i].UUID, err)
		}
	}
	return err
}

// parentContext is the context the send span of msg starts in: the
// message's own, or, when that carries no span (msg.Copy() and the
// Pub/Subs drop it), the one in its metadata, so that a message published
// again goes on in the trace it came with instead of starting a new one.
func parentContext(in *messaging.Instrumenter, msg *message.Message) context.Context {
	ctx := msg.Context()
	if len(msg.Metadata) == 0 || trace.SpanContextFromContext(ctx).IsValid() || in.TracingOff() {
		// With tracing off no span needs the parent, and the context in
		// the metadata is passed on as it is.
		return ctx
	}
	return in.Extract(ctx, msg.Metadata)
}

// Close closes the wrapped publisher.
func (p *publisher) Close() error { return p.pub.Close() }
