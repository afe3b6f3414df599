package pubsubtrace_test

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

func TestHandlerSettleSpans(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	if _, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub.Stop()
	f.receiveWith(t, 1, wrapWith(f, tel.Options(asynctrace.WithSettleSpans())...), func(ctx context.Context, m *pubsub.Message) {
		pubsubtrace.Ack(ctx, m)
	})
	send := tel.WaitEnded(t, "send "+topicID, 1)[0]
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	s := tel.One(t, "ack "+subID)
	if s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != p.SpanContext().SpanID() {
		t.Error("settle span is not a CLIENT child of the process span")
	}
	if !telemetrytest.HasLinkTo(s, send.SpanContext()) {
		t.Error("settle span does not link to the send span")
	}
	telemetrytest.WantAttr(t, s, semconv.MessagingOperationTypeKey, "settle")
	telemetrytest.WantAttr(t, s, semconv.MessagingOperationNameKey, "ack")
}

func TestHandlerLinkAfter(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	if _, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub.Stop()
	// Every real wait is longer than a nanosecond.
	f.receiveWith(t, 1, wrapWith(f, tel.Options(asynctrace.WithLinkAfter(time.Nanosecond))...), func(ctx context.Context, m *pubsub.Message) {
		pubsubtrace.Ack(ctx, m)
	})
	send := tel.WaitEnded(t, "send "+topicID, 1)[0]
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	if p.Parent().IsValid() || !telemetrytest.HasLinkTo(p, send.SpanContext()) {
		t.Error("a late message's process span is not a new root linked to the send span")
	}
	if _, ok := telemetrytest.Attr(p, "asynctrace.message.wait"); !ok {
		t.Error("no wait recorded")
	}
	if len(tel.Ended("ack "+subID)) != 0 {
		t.Error("a settle span without the option")
	}
}
