package messaging_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

func sent(t *testing.T, tel *telemetrytest.Telemetry, in *messaging.Instrumenter) map[string]string {
	t.Helper()
	_, send, props := in.StartSend(context.Background(), in.Destination("orders", "", ""), nil, 0)
	send.End("", nil)
	return props
}

func TestSettleSpans(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options(asynctrace.WithSettleSpans())...)
	props := sent(t, tel, in)
	d := in.DestinationFor(messaging.Target{Name: "orders", Subscription: "billing", Partition: "2", ClientID: "c-1"})
	_, proc := in.StartProcess(context.Background(), d, props, "", 0)
	in.Settled(d, messaging.SettleNack, time.Now(), errors.New("closed"), proc)
	proc.End(messaging.SettleNack, nil)

	send, p, s := tel.One(t, "send orders"), tel.One(t, "process orders"), tel.One(t, "nack orders")
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	assert.Equal(t, p.SpanContext().SpanID(), s.Parent().SpanID(), "settle is the process span's child")
	assert.True(t, telemetrytest.HasLinkTo(s, send.SpanContext()), "settle links to the producer")
	telemetrytest.WantAttr(t, s, semconv.MessagingOperationTypeKey, "settle")
	telemetrytest.WantAttr(t, s, semconv.MessagingOperationNameKey, "nack")
	telemetrytest.WantAttr(t, s, semconv.MessagingDestinationPartitionIDKey, "2")
	telemetrytest.WantAttr(t, s, semconv.MessagingClientIDKey, "c-1")
	telemetrytest.WantAttr(t, s, semconv.ErrorTypeKey, "*errors.errorString")
	telemetrytest.WantAttr(t, p, semconv.MessagingClientIDKey, "c-1")
	telemetrytest.WantAttr(t, p, messaging.SettlementKey, "nack")
}

func TestSettleSpansOffByDefault(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options()...)
	d := in.Destination("orders", "billing", "")
	_, proc := in.StartProcess(context.Background(), d, sent(t, tel, in), "", 0)
	in.Settled(d, messaging.SettleAck, time.Now(), nil, proc)
	proc.End(messaging.SettleAck, nil)
	assert.Empty(t, tel.Ended("ack orders"))
	assert.EqualValues(t, 1, tel.HistogramCount(t, "messaging.client.operation.duration", semconv.MessagingOperationName("ack")))
}

func TestSettleSpanOfSeveralMessages(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options(asynctrace.WithSettleSpans())...)
	d := in.Destination("orders", "billing", "")
	_, p1 := in.StartProcess(context.Background(), d, sent(t, tel, in), "", 0)
	_, p2 := in.StartProcess(context.Background(), d, sent(t, tel, in), "", 0)
	in.Settled(d, messaging.SettleCumulativeAck, time.Now(), nil, p1, p2)
	s := tel.One(t, "cumulative_ack orders")
	assert.Len(t, s.Links(), 2)
	telemetrytest.WantAttr(t, s, semconv.MessagingBatchMessageCountKey, int64(2))
}

func TestObservedSettlementMakesSettleSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "watermill", SettleObserved: true}, tel.Options(asynctrace.WithSettleSpans())...)
	d := in.Destination("orders", "", "")
	_, proc := in.StartProcess(context.Background(), d, sent(t, tel, in), "", 0)
	proc.End(messaging.SettleAck, nil)
	s := tel.One(t, "ack orders")
	assert.Equal(t, proc.Span().SpanContext().SpanID(), s.Parent().SpanID())
}

func TestReceiveSpans(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options(asynctrace.WithReceiveSpans())...)
	props := sent(t, tel, in)
	assert.True(t, in.ReceiveSpans())
	d := in.Destination("orders", "billing", "")
	ctx, root := tel.Root(context.Background(), "poll")
	rctx := in.Received(ctx, d, time.Now(), props, "id-1", nil)
	_, proc := in.StartProcess(rctx, d, props, "id-1", 0)
	proc.End(messaging.SettleAck, nil)
	root.End()

	send, recv, p := tel.One(t, "send orders"), tel.One(t, "receive orders"), tel.One(t, "process orders")
	assert.Equal(t, trace.SpanKindClient, recv.SpanKind())
	assert.Equal(t, root.SpanContext().SpanID(), recv.Parent().SpanID(), "receive is the caller's child")
	assert.True(t, telemetrytest.HasLinkTo(recv, send.SpanContext()), "receive links to the producer")
	assert.Equal(t, send.SpanContext().SpanID(), p.Parent().SpanID(), "process stays the producer's child")
	assert.True(t, telemetrytest.HasLinkTo(p, recv.SpanContext()), "process links to receive")
	telemetrytest.WantAttr(t, recv, semconv.MessagingOperationTypeKey, "receive")
	telemetrytest.WantAttr(t, recv, semconv.MessagingMessageIDKey, "id-1")
}

func TestReceiveSpansOffByDefault(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options()...)
	ctx := context.Background()
	assert.Equal(t, ctx, in.Received(ctx, in.Destination("orders", "", ""), time.Now(), nil, "", nil))
	assert.Empty(t, tel.Ended("receive orders"))
}

func TestLinkAfter(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"}, tel.Options(asynctrace.WithLinkAfter(time.Minute))...)
	props := sent(t, tel, in)
	d := in.Destination("orders", "billing", "")
	_, late := in.StartProcessAt(context.Background(), d, props, "", 0, time.Now().Add(-time.Hour))
	late.End(messaging.SettleAck, nil)
	_, quick := in.StartProcessAt(context.Background(), d, props, "", 0, time.Now())
	quick.End(messaging.SettleAck, nil)
	_, unknown := in.StartProcessAt(context.Background(), d, props, "", 0, time.Time{})
	unknown.End(messaging.SettleAck, nil)

	send := tel.One(t, "send orders")
	spans := tel.Ended("process orders")
	assert.Len(t, spans, 3)
	assert.False(t, spans[0].Parent().IsValid(), "a late message starts a new root")
	assert.True(t, telemetrytest.HasLinkTo(spans[0], send.SpanContext()))
	v, ok := telemetrytest.Attr(spans[0], messaging.WaitKey)
	assert.True(t, ok)
	assert.GreaterOrEqual(t, v.AsFloat64(), 3600.0)
	assert.Equal(t, send.SpanContext().SpanID(), spans[1].Parent().SpanID(), "a quick message stays the child")
	assert.Equal(t, send.SpanContext().SpanID(), spans[2].Parent().SpanID(), "no publish time: the default")
	telemetrytest.NoAttr(t, spans[2], messaging.WaitKey)
}

func TestPulsarVocabulary(t *testing.T) {
	tel := telemetrytest.New(t)
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar", Settlement: messaging.PulsarVocabulary}, tel.Options()...)
	d := in.Destination("orders", "billing", "")
	for _, s := range []messaging.Settlement{messaging.SettleAck, messaging.SettleCumulativeAck, messaging.SettleNack, messaging.SettleAckTimeout, messaging.SettleAbandoned} {
		_, p := in.StartProcess(context.Background(), d, nil, "", 0)
		p.End(s, nil)
	}
	var got []string
	for _, s := range tel.Ended("process orders") {
		telemetrytest.NoAttr(t, s, messaging.SettlementKey)
		got = append(got, telemetrytest.AttrString(s, messaging.PulsarAcknowledgmentTypeKey))
	}
	assert.Equal(t, []string{"acknowledge", "cumulative_acknowledge", "negative_acknowledge", "ack_timeout", "abandoned"}, got)
	assert.Equal(t, "negative_acknowledge", messaging.PulsarVocabulary.Value(messaging.SettleNack))
}

func TestLinkAfterPanicsOnNonPositive(t *testing.T) {
	assert.PanicsWithValue(t, "asynctrace.WithLinkAfter: d must be positive, got 0s", func() { asynctrace.WithLinkAfter(0) })
}
