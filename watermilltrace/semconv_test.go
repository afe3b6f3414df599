package watermilltrace_test

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestWrapSubscriberSettleSpansAndConsumerGroup(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	sub := watermilltrace.WrapSubscriber(g, tel.Options(asynctrace.WithSettleSpans(), watermilltrace.WithConsumerGroup("billing"))...)
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("jobs", message.NewMessage("j1", nil)); err != nil {
		t.Fatal(err)
	}
	send := tel.WaitEnded(t, "send jobs", 1)[0]
	telemetrytest.Recv(t, msgs, "message").Ack()
	proc := tel.WaitEnded(t, "process jobs", 1)[0]
	ack := tel.One(t, "ack jobs")
	if ack.SpanKind() != trace.SpanKindClient || ack.Parent().SpanID() != proc.SpanContext().SpanID() {
		t.Error("settle span is not a CLIENT child of the process span")
	}
	if !telemetrytest.HasLinkTo(ack, send.SpanContext()) {
		t.Error("settle span does not link to the send span")
	}
	telemetrytest.WantAttr(t, ack, "messaging.operation.type", "settle")
	telemetrytest.WantAttr(t, proc, "messaging.consumer.group.name", "billing")
	telemetrytest.WantAttr(t, proc, "asynctrace.message.settlement", "ack")
}

func TestWrapSubscriberNoSettleSpansByDefault(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	sub := watermilltrace.WrapSubscriber(g, tel.Options()...)
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Publish("jobs", message.NewMessage("j1", nil)); err != nil {
		t.Fatal(err)
	}
	telemetrytest.Recv(t, msgs, "message").Ack()
	proc := tel.WaitEnded(t, "process jobs", 1)[0]
	telemetrytest.NoAttr(t, proc, "messaging.consumer.group.name")
	if n := len(tel.Ended("ack jobs")); n != 0 {
		t.Errorf("%d settle spans without the option", n)
	}
}

func TestMiddlewareConsumerGroup(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options(watermilltrace.WithConsumerGroup("billing"))...))
	r.AddConsumerHandler("store", "orders", g, func(*message.Message) error { return nil })
	watermilltest.StartRouter(t, r)
	if err := g.Publish("orders", message.NewMessage(watermill.NewUUID(), nil)); err != nil {
		t.Fatal(err)
	}
	proc := tel.WaitEnded(t, "process orders", 1)[0]
	telemetrytest.WantAttr(t, proc, "messaging.consumer.group.name", "billing")
}

func TestWithConsumerGroupPanicsOnEmpty(t *testing.T) {
	telemetrytest.WantPanic(t, "watermilltrace.WithConsumerGroup: group is empty", func() { watermilltrace.WithConsumerGroup("") })
}
