package pulsartrace

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

const settlementKey = AcknowledgmentTypeKey

// produced sends one message through a wrapped fake producer and returns
// the properties the client got and the send span.
func produced(t *testing.T, tel *telemetrytest.Telemetry, opts []asynctrace.Option, ctx context.Context, props map[string]string) (map[string]string, sdktrace.ReadOnlySpan) {
	t.Helper()
	fp := &fakeProducer{topic: "orders"}
	p := WrapProducer(fp, opts...)
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x"), Properties: props}); err != nil {
		t.Fatal(err)
	}
	spans := tel.Ended("send orders")
	return fp.messages()[0].Properties, spans[len(spans)-1]
}

// unsettledOf is how many messages a consumer from WrapConsumer keeps
// spans open for.
func unsettledOf(c pulsar.Consumer) int { return c.(*consumer).openCount() }

func message(entry int64, props map[string]string) *fakeMessage {
	return &fakeMessage{
		topic:   "persistent://public/default/orders-partition-0",
		props:   props,
		payload: []byte("x"),
		id:      pulsar.NewMessageID(3, entry, -1, 0),
	}
}

func TestReceiveContinuesProducerTraceAndAckEndsSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	props, send := produced(t, tel, tel.Options(), ctx, map[string]string{"user": "1"})

	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	in := message(10, props)
	in.redelivery = 2
	fc.push(in)

	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	msg, err := c.Receive(rctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	pctx := ContextFromMessage(msg)
	if pctx.Err() != nil {
		t.Error("the message's context is done with the Receive context; want it detached")
	}
	if got := baggage.FromContext(pctx).Member("tenant").Value(); got != "acme" {
		t.Errorf("baggage tenant=%q, want acme", got)
	}
	sc := trace.SpanContextFromContext(pctx)
	if sc.TraceID() != send.SpanContext().TraceID() {
		t.Error("process span is in another trace than the send span")
	}
	if len(tel.Ended("process orders")) != 0 {
		t.Fatal("process span ended before the message was settled")
	}
	if UnwrapMessage(msg) != pulsar.Message(in) {
		t.Error("UnwrapMessage does not return the client's message")
	}
	if err := c.Ack(msg); err != nil {
		t.Fatalf("Ack: %v (the client must get its own message)", err)
	}
	span := tel.One(t, "process orders")
	if span.Parent().SpanID() != send.SpanContext().SpanID() || span.Parent().TraceID() != send.SpanContext().TraceID() {
		t.Error("process span is not a child of the send span")
	}
	if span.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kind %v, want consumer", span.SpanKind())
	}
	telemetrytest.WantAttr(t, span, semconv.MessagingSystemKey, "pulsar")
	telemetrytest.WantAttr(t, span, semconv.MessagingDestinationNameKey, "orders")
	telemetrytest.WantAttr(t, span, semconv.MessagingDestinationSubscriptionNameKey, "sub-1")
	telemetrytest.WantAttr(t, span, semconv.MessagingMessageIDKey, formatMessageID(in.id))
	telemetrytest.WantAttr(t, span, RedeliveryCountKey, int64(2))
	telemetrytest.WantAttr(t, span, settlementKey, "acknowledge")
	telemetrytest.NoAttr(t, span, ReconsumeTimesKey)
	if unsettledOf(c) != 0 {
		t.Errorf("%d unsettled after ack", unsettledOf(c))
	}
}

func TestMessagesWithoutOrWithBadContextGetNewRoot(t *testing.T) {
	for name, props := range map[string]map[string]string{
		"no properties":   nil,
		"no trace":        {"a": "b"},
		"bad traceparent": {"traceparent": "00-zzzz-not-a-trace-01"},
		"all-zero trace":  {"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"},
		"oversized":       {"traceparent": string(make([]byte, 100000))},
	} {
		t.Run(name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			fc := newFakeConsumer()
			c := WrapConsumer(fc, tel.Options()...)
			defer c.Close()
			fc.push(message(1, props))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := Handle(ctx, c, func(ctx context.Context, msg pulsar.Message) error {
				if !trace.SpanContextFromContext(ctx).IsValid() {
					t.Error("handler context has no span")
				}
				cancel() // one message is enough
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			span := tel.One(t, "process orders")
			if span.Parent().IsValid() {
				t.Errorf("process span has parent %v, want a new root", span.Parent())
			}
			telemetrytest.WantAttr(t, span, settlementKey, "acknowledge")
			if acked, _, _, _ := fc.counts(); acked != 1 {
				t.Errorf("%d acks, want 1", acked)
			}
		})
	}
}

func contextWithTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSettlementsEndSpansWithOutcome(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	recv := func(entry int64) pulsar.Message {
		t.Helper()
		fc.push(message(entry, nil))
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	settled := func(entry int64) string {
		t.Helper()
		id := formatMessageID(pulsar.NewMessageID(3, entry, -1, 0))
		for _, s := range tel.Ended("process orders") {
			if v, _ := telemetrytest.Attr(s, semconv.MessagingMessageIDKey); v.AsString() == id {
				v, _ := telemetrytest.Attr(s, settlementKey)
				return v.AsString()
			}
		}
		return ""
	}

	_ = c.AckID(recv(1).ID())
	c.Nack(recv(2))
	c.NackID(recv(3).ID())
	c.ReconsumeLater(recv(4), time.Second)
	c.ReconsumeLaterWithCustomProperties(recv(5), map[string]string{"x": "y"}, time.Second)
	_ = c.AckWithTxn(recv(6), nil)
	_ = c.AckIDList([]pulsar.MessageID{recv(7).ID(), recv(8).ID()})
	for entry, want := range map[int64]string{1: "acknowledge", 2: "negative_acknowledge", 3: "negative_acknowledge", 4: "reconsume_later", 5: "reconsume_later", 6: "acknowledge", 7: "acknowledge", 8: "acknowledge"} {
		if got := settled(entry); got != want {
			t.Errorf("message %d settled as %q, want %q", entry, got, want)
		}
	}
	acked, nacked, retried, _ := fc.counts()
	if acked != 4 || nacked != 2 || retried != 2 {
		t.Errorf("client got %d acks, %d nacks, %d retries; want 4, 2, 2", acked, nacked, retried)
	}
	fc.mu.Lock()
	for _, m := range fc.retried {
		if _, ok := m.(*fakeMessage); !ok {
			t.Errorf("ReconsumeLater handed the client a %T", m)
		}
	}
	fc.mu.Unlock()

	// A cumulative ack ends the spans of earlier messages of its partition
	// and leaves later ones and other partitions open.
	m10, m11, m12 := recv(10), recv(11), recv(12)
	other := message(9, nil)
	other.id = pulsar.NewMessageID(3, 9, -1, 1)
	fc.push(other)
	if _, err := c.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	_ = m10
	if err := c.AckCumulative(m11); err != nil {
		t.Fatal(err)
	}
	if settled(10) != "cumulative_acknowledge" || settled(11) != "cumulative_acknowledge" || settled(12) != "" {
		t.Errorf("after cumulative ack of 11: 10=%q 11=%q 12=%q, want both cumulative_acknowledge, 12 open", settled(10), settled(11), settled(12))
	}
	if unsettledOf(c) != 2 {
		t.Errorf("%d unsettled, want 2 (message 12 and the other partition's)", unsettledOf(c))
	}
	if err := c.AckIDCumulative(m12.ID()); err != nil {
		t.Fatal(err)
	}
	if settled(12) != "cumulative_acknowledge" || unsettledOf(c) != 1 {
		t.Errorf("after AckIDCumulative(12): 12=%q, %d unsettled", settled(12), unsettledOf(c))
	}
	c.Close()
	if unsettledOf(c) != 0 {
		t.Errorf("%d unsettled after Close", unsettledOf(c))
	}
	var abandoned int
	for _, s := range tel.Ended("process orders") {
		if v, _ := telemetrytest.Attr(s, settlementKey); v.AsString() == "abandoned" {
			abandoned++
		}
	}
	if abandoned != 1 {
		t.Errorf("%d spans abandoned on Close, want 1", abandoned)
	}
}

func TestAckErrorIsRecorded(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	fc.ackErr = errors.New("ack failed")
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	fc.push(message(1, nil))
	m, err := c.Receive(contextWithTimeout(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ack(m); err == nil {
		t.Fatal("Ack did not return the client's error")
	}
	span := tel.One(t, "process orders")
	if span.Status().Code != codes.Error {
		t.Errorf("status %v, want error", span.Status())
	}
	telemetrytest.WantAttr(t, span, settlementKey, "acknowledge")
	if n := tel.HistogramCount(t, "messaging.client.operation.duration", semconv.MessagingOperationName("ack"), semconv.ErrorTypeKey.String("*errors.errorString")); n != 1 {
		t.Errorf("failed ack durations recorded: %d, want 1", n)
	}
}

func TestUnsettledIsBounded(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options(WithMaxUnsettled(3))...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	var msgs []pulsar.Message
	for i := range 5 {
		fc.push(message(int64(i), nil))
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if unsettledOf(c) != 3 {
		t.Errorf("%d unsettled, want the bound 3", unsettledOf(c))
	}
	ended := tel.Ended("process orders")
	if len(ended) != 2 {
		t.Fatalf("%d spans ended past the bound, want 2", len(ended))
	}
	for _, s := range ended {
		telemetrytest.WantAttr(t, s, settlementKey, "abandoned")
	}
	// Settling an evicted message still reaches the client and ends nothing twice.
	if err := c.Ack(msgs[0]); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.Ended("process orders")); n != 2 {
		t.Errorf("%d ended spans after acking an evicted message, want 2", n)
	}
	if acked, _, _, _ := fc.counts(); acked != 1 {
		t.Errorf("client got %d acks, want 1", acked)
	}
}

func TestRedeliveredWhileOpenSettlesBoth(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	fc.push(message(1, nil))
	fc.push(message(1, nil))
	first, _ := c.Receive(ctx)
	if _, err := c.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Ack(first); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.Ended("process orders")); n != 2 || unsettledOf(c) != 0 {
		t.Errorf("%d spans ended, %d open after acking a twice-delivered id; want 2, 0", n, unsettledOf(c))
	}
}

func TestChanDeliversTracedMessages(t *testing.T) {
	tel := telemetrytest.New(t)
	props, send := produced(t, tel, tel.Options(), context.Background(), nil)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	fc.push(message(1, props))
	var cm pulsar.ConsumerMessage
	select {
	case cm = <-c.Chan():
	case <-time.After(5 * time.Second):
		t.Fatal("no message on Chan")
	}
	if cm.Consumer != pulsar.Consumer(c) {
		t.Error("ConsumerMessage.Consumer is not the wrapper")
	}
	for _, m := range []pulsar.Message{cm, cm.Message, &cm} {
		if trace.SpanContextFromContext(ContextFromMessage(m)).TraceID() != send.SpanContext().TraceID() {
			t.Errorf("ContextFromMessage(%T) is not in the producer's trace", m)
		}
		if _, ok := UnwrapMessage(m).(*fakeMessage); !ok {
			t.Errorf("UnwrapMessage(%T) = %T, want the client's message", m, UnwrapMessage(m))
		}
	}
	var nilCM *pulsar.ConsumerMessage
	if ContextFromMessage(nilCM) != context.Background() || UnwrapMessage(nilCM) != pulsar.Message(nilCM) || ContextFromMessage(nil) != context.Background() {
		t.Error("nil messages are not handled")
	}
	if err := cm.Ack(cm.Message); err != nil {
		t.Fatal(err)
	}
	span := tel.One(t, "process orders")
	if span.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Error("process span from Chan is not a child of the send span")
	}
	// A message the pump holds when Close comes is abandoned, not leaked.
	fc.push(message(2, props))
	deadline := time.Now().Add(5 * time.Second)
	for unsettledOf(c) != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	if n := len(tel.Ended("process orders")); n != 2 {
		t.Errorf("%d process spans after Close, want 2", n)
	}
	if ContextFromMessage(message(3, nil)) != context.Background() {
		t.Error("ContextFromMessage of a foreign message is not Background")
	}
	// Chan after Close gives a channel that delivers nothing, without a goroutine.
	_ = c.Chan()
}

func TestLinkToProducer(t *testing.T) {
	tel := telemetrytest.New(t)
	opts := tel.Options(asynctrace.WithLinkToProducer())
	props, send := produced(t, tel, opts, context.Background(), nil)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, opts...)
	defer c.Close()
	fc.push(message(1, props))
	ctx, loop := tel.Root(context.Background(), "consumer loop")
	pctx, m, err := c.(*consumer).receiveContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pctx != ContextFromMessage(m) {
		t.Error("receiveContext's context differs from the message's")
	}
	_ = c.Ack(m)
	loop.End()
	span := tel.One(t, "process orders")
	if span.Parent().SpanID() != loop.SpanContext().SpanID() {
		t.Error("linked process span is not a child of the consumer's own span")
	}
	links := span.Links()
	if len(links) != 1 || links[0].SpanContext.SpanID() != send.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the send span", links)
	}
}

func TestHandleNacksOnErrorAndStopsOnCancel(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	for i := range 4 {
		fc.push(message(int64(i), map[string]string{"n": strconv.Itoa(i)}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	handled := 0
	handlerErr := errors.New("cannot process")
	err := Handle(ctx, c, func(hctx context.Context, msg pulsar.Message) error {
		handled++
		if handled == 4 {
			cancel()
		}
		if msg.Properties()["n"] == "1" {
			return handlerErr
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Handle returned %v after cancel, want nil", err)
	}
	acked, nacked, _, _ := fc.counts()
	if acked != 3 || nacked != 1 {
		t.Errorf("%d acks, %d nacks, want 3, 1", acked, nacked)
	}
	var failed int
	for _, s := range tel.Ended("process orders") {
		if s.Status().Code == codes.Error {
			failed++
			telemetrytest.WantAttr(t, s, settlementKey, "negative_acknowledge")
			if len(s.Events()) == 0 || s.Events()[0].Name != "exception" {
				t.Error("handler error not recorded as an exception event")
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed process spans, want 1", failed)
	}
	if n := tel.HistogramCount(t, "messaging.process.duration"); n != 4 {
		t.Errorf("process.duration count %d, want 4", n)
	}
	if n := tel.HistogramCount(t, "messaging.process.duration", semconv.ErrorTypeKey.String("*errors.errorString")); n != 1 {
		t.Errorf("failed process.duration count %d, want 1", n)
	}
}

func TestHandleReturnsWhenConsumerCloses(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	done := make(chan error, 1)
	go func() {
		done <- Handle(context.Background(), c, func(context.Context, pulsar.Message) error { return nil })
	}()
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Handle returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Handle did not return after Close")
	}
}

func TestHandlePanicNacksAndRepanics(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	fc.push(message(1, nil))
	func() {
		defer func() {
			if r := recover(); r != "bad" {
				t.Errorf("recovered %v, want the handler's panic", r)
			}
		}()
		_ = Handle(contextWithTimeout(t), c, func(context.Context, pulsar.Message) error { panic("bad") })
	}()
	span := tel.One(t, "process orders")
	telemetrytest.WantAttr(t, span, settlementKey, "negative_acknowledge")
	if st := span.Status(); st.Code != codes.Error || st.Description != "asynctrace: handler panicked: bad" {
		t.Errorf("panicking handler's span status %+v, want an error with the panic", st)
	}
	if _, nacked, _, _ := fc.counts(); nacked != 1 {
		t.Errorf("%d nacks, want 1", nacked)
	}
}

func TestConsumerMetrics(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	ctx := contextWithTimeout(t)
	for i := range 3 {
		fc.push(message(int64(i), nil))
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.Nack(m)
		} else {
			_ = c.Ack(m)
		}
	}
	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	_, err := c.Receive(short)
	cancel()
	if err == nil {
		t.Fatal("Receive on an empty consumer returned no error")
	}
	c.Close()

	base := []attribute.KeyValue{semconv.MessagingSystemKey.String("pulsar"), semconv.MessagingDestinationSubscriptionName("sub-1")}
	named := append(base, semconv.MessagingDestinationName("orders"))
	if n := tel.CounterSum(t, "messaging.client.consumed.messages", named...); n != 3 {
		t.Errorf("consumed.messages = %d, want 3", n)
	}
	dur := "messaging.client.operation.duration"
	if n := tel.HistogramCount(t, dur, append(named, semconv.MessagingOperationTypeReceive)...); n != 3 {
		t.Errorf("receive durations %d, want 3", n)
	}
	if n := tel.HistogramCount(t, dur, append(base, semconv.MessagingOperationTypeReceive, semconv.ErrorTypeKey.String("context.deadlineExceededError"))...); n != 1 {
		t.Errorf("failed receive durations %d, want 1", n)
	}
	if n := tel.HistogramCount(t, dur, append(named, semconv.MessagingOperationTypeSettle, semconv.MessagingOperationName("ack"))...); n != 2 {
		t.Errorf("ack durations %d, want 2", n)
	}
	if n := tel.HistogramCount(t, dur, append(named, semconv.MessagingOperationTypeSettle, semconv.MessagingOperationName("nack"))...); n != 1 {
		t.Errorf("nack durations %d, want 1", n)
	}
	if n := tel.HistogramCount(t, "messaging.process.duration", named...); n != 3 {
		t.Errorf("process durations %d, want 3", n)
	}
}

func TestWrapConsumerEdges(t *testing.T) {
	fc := newFakeConsumer()
	c := WrapConsumer(fc)
	if WrapConsumer(c) != c || UnwrapConsumer(c) != pulsar.Consumer(fc) || UnwrapConsumer(fc) != pulsar.Consumer(fc) {
		t.Error("wrapping is not idempotent or UnwrapConsumer is wrong")
	}
	if c.Subscription() != "sub-1" || c.Name() != "fake-consumer" {
		t.Error("pass-through methods do not reach the wrapped consumer")
	}
	c.Close()
	c.Close()
	if !fc.closed {
		t.Error("Close did not close the wrapped consumer")
	}
}

func TestAckIDListRecordsEachMessagesError(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	var ids []pulsar.MessageID
	for i := range 2 {
		fc.push(message(int64(i), nil))
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID())
	}
	// The client reports the failure under an id value of its own.
	fc.listErr = pulsar.AckError{pulsar.NewMessageID(3, 1, -1, 0): errors.New("not acked")}
	if err := c.AckIDList(ids); err == nil {
		t.Fatal("AckIDList hid the client's error")
	}
	for _, s := range tel.Ended("process orders") {
		id, _ := telemetrytest.Attr(s, semconv.MessagingMessageIDKey)
		failed := s.Status().Code == codes.Error
		if want := id.AsString() == formatMessageID(ids[1]); failed != want {
			t.Errorf("message %s: error status %v, want %v", id.AsString(), failed, want)
		}
		telemetrytest.WantAttr(t, s, settlementKey, "acknowledge")
	}
	if n := len(tel.Ended("process orders")); n != 2 {
		t.Errorf("%d spans ended, want 2", n)
	}
}

func TestConcurrentHandlers(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	const n = 60
	go func() {
		for i := range n {
			fc.push(message(int64(i), nil))
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handled atomic.Int32
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			errs <- Handle(ctx, c, func(context.Context, pulsar.Message) error {
				if handled.Add(1) == n {
					cancel()
				}
				return nil
			})
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if acked, _, _, _ := fc.counts(); acked != n {
		t.Errorf("%d acks, want %d", acked, n)
	}
	if got := len(tel.Ended("process orders")); got != n {
		t.Errorf("%d process spans, want %d", got, n)
	}
}

func TestEvictingAnEarlierDeliveryOfAnID(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options(WithMaxUnsettled(2))...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	// Two deliveries of id 1, then id 2: the bound evicts the first
	// delivery of id 1, which is not the newest of its id.
	for _, entry := range []int64{1, 1, 2} {
		fc.push(message(entry, nil))
		if _, err := c.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if unsettledOf(c) != 2 || len(tel.Ended("process orders")) != 1 {
		t.Fatalf("%d open, %d ended; want 2, 1", unsettledOf(c), len(tel.Ended("process orders")))
	}
	if err := c.AckID(pulsar.NewMessageID(3, 1, -1, 0)); err != nil {
		t.Fatal(err)
	}
	if unsettledOf(c) != 1 || len(tel.Ended("process orders")) != 2 {
		t.Errorf("after acking id 1: %d open, %d ended; want 1, 2", unsettledOf(c), len(tel.Ended("process orders")))
	}
}

func TestCumulativeOrder(t *testing.T) {
	k := func(ledger, entry int64, batch, partition int32) idKey {
		return idKey{ledger: ledger, entry: entry, batch: batch, partition: partition}
	}
	limit := k(5, 10, 3, 0)
	for _, tc := range []struct {
		key  idKey
		want bool
	}{
		{k(4, 99, 0, 0), true},  // earlier ledger
		{k(6, 0, 0, 0), false},  // later ledger
		{k(5, 9, 9, 0), true},   // earlier entry
		{k(5, 11, 0, 0), false}, // later entry
		{k(5, 10, 3, 0), true},  // the message itself
		{k(5, 10, 2, 0), true},  // earlier in the batch
		{k(5, 10, 4, 0), false}, // later in the batch
		{k(4, 0, 0, 1), false},  // another partition
		{k(5, 10, -1, 0), true}, // not batched, same entry
	} {
		if got := tc.key.atOrBefore(limit); got != tc.want {
			t.Errorf("%+v.atOrBefore(%+v) = %v, want %v", tc.key, limit, got, tc.want)
		}
	}
}

func TestFailedCumulativeAckEndsOnlyItsMessage(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	fc.cumErr = errors.New("cumulative ack refused")
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	var last pulsar.Message
	for i := range 3 {
		fc.push(message(int64(i), nil))
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = m
	}
	if err := c.AckCumulative(last); err == nil {
		t.Fatal("AckCumulative hid the client's error")
	}
	span := tel.One(t, "process orders")
	if v, _ := telemetrytest.Attr(span, semconv.MessagingMessageIDKey); v.AsString() != formatMessageID(last.ID()) {
		t.Errorf("ended %s, want the acked message %s", v.AsString(), last.ID())
	}
	if span.Status().Code != codes.Error {
		t.Error("failed cumulative ack not recorded on the span")
	}
	if unsettledOf(c) != 2 {
		t.Errorf("%d open, want the 2 earlier messages", unsettledOf(c))
	}
}

func TestHandlerContextFollowsCancellation(t *testing.T) {
	fc := newFakeConsumer()
	c := WrapConsumer(fc, telemetrytest.New(t).Options()...)
	defer c.Close()
	fc.push(message(1, nil))
	ctx, cancel := context.WithCancel(context.Background())
	pctx, m, err := c.(*consumer).receiveContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if pctx.Err() == nil {
		t.Error("the context Handle gives the handler is not done when ctx is")
	}
	_ = c.Ack(m)

	// A failed receive returns ctx itself and no message.
	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelShort()
	got, m2, err := c.(*consumer).receiveContext(short)
	if err == nil || m2 != nil || got != short {
		t.Errorf("receiveContext on an empty consumer = %v, %v, %v", got, m2, err)
	}
	if m3, err := c.Receive(short); err == nil || m3 != nil {
		t.Errorf("Receive on an empty consumer = %v, %v; want a nil interface and an error", m3, err)
	}
}

// A message without an id (not one the client makes, but a Message is an
// interface) is processed and settled without a panic, and ends on Close.
func TestMessageWithoutID(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	m := message(1, nil)
	m.id = nil
	fc.push(m)
	got, err := c.Receive(contextWithTimeout(t))
	if err != nil {
		t.Fatal(err)
	}
	c.NackID(nil)
	_ = c.AckCumulative(got)
	c.ReconsumeLater(got, 0)
	c.Close()
	span := tel.One(t, "process orders")
	telemetrytest.WantAttr(t, span, settlementKey, "abandoned")
	telemetrytest.NoAttr(t, span, semconv.MessagingMessageIDKey)
}

// A handler that calls runtime.Goexit (as t.FailNow does) ends its
// goroutine; Handle must let it end, not turn it into a panic, and the
// message is nacked with its span ended.
func TestHandleGoexitNacksWithoutPanic(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	fc.push(message(1, nil))
	var recovered any
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer func() { recovered = recover() }()
		_ = Handle(contextWithTimeout(t), c, func(context.Context, pulsar.Message) error {
			runtime.Goexit()
			return nil
		})
	}()
	<-exited
	if recovered != nil {
		t.Fatalf("Handle turned the handler's Goexit into a panic: %v", recovered)
	}
	span := tel.One(t, "process orders")
	telemetrytest.WantAttr(t, span, settlementKey, "negative_acknowledge")
	if st := span.Status(); st.Code != codes.Error || st.Description != messaging.ErrHandlerExited.Error() {
		t.Errorf("exited handler's span status %+v, want an error saying it exited", st)
	}
	if _, nacked, _, _ := fc.counts(); nacked != 1 {
		t.Errorf("%d nacks, want 1", nacked)
	}
}

// A consumer implementation that closes its Chan channel (the client's
// never does) ends the forwarding; it must not turn the closed channel into
// an endless stream of empty messages.
func TestChanSourceClosed(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	fc.push(message(1, nil))
	close(fc.ch)
	ch := c.Chan()
	select {
	case cm := <-ch:
		if cm.Message == nil {
			t.Fatal("first message from Chan is empty")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on Chan")
	}
	select {
	case cm := <-ch:
		t.Fatalf("Chan delivered %+v after the wrapped channel closed", cm)
	case <-time.After(50 * time.Millisecond):
	}
}
