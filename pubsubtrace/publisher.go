package pubsubtrace

import (
	"context"

	"cloud.google.com/go/pubsub/v2"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Publisher publishes through a [pubsub.Publisher], with a PRODUCER span
// "send <topic>" per message and the trace context written into the
// message's attributes. Each span ends when the client settles the publish,
// with the server-assigned message ID or the error, whether or not the
// caller ever calls [pubsub.PublishResult.Get].
//
// A Publisher is safe for concurrent use. Stop it (with [Publisher.Stop] or
// [Publisher.Shutdown]) instead of the wrapped publisher, so that the spans
// of messages still in flight are ended.
type Publisher struct {
	googleClientKeys bool

	pub     *pubsub.Publisher
	in      *messaging.Instrumenter
	dest    *messaging.Destination
	watcher *watcher
}

// WrapPublisher returns a Publisher that publishes through pub. The topic
// ID (the last part of pub's resource name) is the destination name of the
// spans and metrics; the project is recorded as gcp.project_id. It panics
// if pub is nil.
func WrapPublisher(pub *pubsub.Publisher, opts ...asynctrace.Option) *Publisher {
	if pub == nil {
		panic("pubsubtrace.WrapPublisher: publisher is nil")
	}
	topic := parseResourceName(pub.String(), "topics")
	in, s := newInstrumenter("WrapPublisher", opts, projectAttributes(topic.project)...)
	return &Publisher{
		googleClientKeys: s.googleClientKeys,
		pub:              pub,
		in:               in,
		dest:             in.Destination(topic.id, "", ""),
		watcher:          newWatcher(),
	}
}

// Publish starts the send span as a child of ctx's span and publishes a copy
// of msg whose attributes carry the span's context (and the baggage of ctx),
// within Pub/Sub's attribute limits. msg and its attribute map are never
// written; when there is nothing to inject, msg itself is published. The
// client keeps the message it is given until the publish completes, so, as
// with the client itself, msg must not be changed until then.
//
// Publish never blocks on the telemetry pipeline: it returns the client's
// own result, and the span ends in the background when that result is
// ready.
func (p *Publisher) Publish(ctx context.Context, msg *pubsub.Message) *pubsub.PublishResult {
	ctx, send, attrs := p.in.StartSend(ctx, p.dest, msg.Attributes, len(msg.Data))
	if p.googleClientKeys {
		attrs = addGoogleClientKeys(ctx, attrs)
	}
	if span := send.Span(); msg.OrderingKey != "" && span.IsRecording() {
		setMessageAttributes(span, msg.OrderingKey, 0)
	}
	out := msg
	if !messaging.SameMap(attrs, msg.Attributes) {
		cp := *msg
		cp.Attributes = attrs
		out = &cp
	}
	res := p.pub.Publish(ctx, out)
	if send.Observed() {
		p.watcher.add(res, send)
	}
	return res
}

// Publisher returns the wrapped publisher, for its settings and for
// ResumePublish. Publish and stop through the Publisher instead.
func (p *Publisher) Publisher() *pubsub.Publisher { return p.pub }

// Flush blocks until every message published so far is sent, as
// [pubsub.Publisher.Flush] does. Their spans end in the background within a
// scheduling delay; Stop waits for them.
func (p *Publisher) Flush() { p.pub.Flush() }

// Stop sends the remaining messages and stops the wrapped publisher, as
// [pubsub.Publisher.Stop] does, then waits until the span of every message
// has ended. Messages published after Stop fail with
// [pubsub.ErrPublisherStopped], and their spans record it.
func (p *Publisher) Stop() {
	p.pub.Stop()
	<-p.watcher.close(false)
}

// Shutdown is Stop bounded by ctx: if ctx ends first, the spans of the
// messages still in flight end with [ErrAbandoned] and Shutdown returns
// ctx.Err(). The wrapped publisher's Stop goes on in the background until
// its own publish timeout (PublishSettings.Timeout) at most.
func (p *Publisher) Shutdown(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		p.pub.Stop()
	}()
	select {
	case <-stopped:
		// The wrapped Stop also returns at once when another Stop is
		// under way, with publishes still in flight: the wait for their
		// spans is bounded by ctx as well.
		select {
		case <-p.watcher.close(false):
			return nil
		case <-ctx.Done():
		}
		<-p.watcher.close(true)
		return ctx.Err()
	case <-ctx.Done():
		<-p.watcher.close(true)
		return ctx.Err()
	}
}
