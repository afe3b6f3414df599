package pulsartrace

import (
	"context"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

func createReader(t *testing.T, client pulsar.Client, opts pulsar.ReaderOptions) pulsar.Reader {
	t.Helper()
	r, err := client.CreateReader(opts)
	if err != nil {
		t.Fatalf("CreateReader(%s): %v", opts.Topic, err)
	}
	t.Cleanup(r.Close)
	return r
}

// A reader's message continues the producer's trace, and its span covers
// the reader's work on it: it ends on the next Next, Seek, SeekByTime or
// Close, whichever comes first.
func TestIntegrationReaderSpansEndOnNextSeekAndClose(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name, DisableBatching: true}), tel.Options()...)
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	for i := range 3 {
		if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	sends := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range tel.Ended("send " + name) {
		sends[s.SpanContext().SpanID()] = s
	}
	if len(sends) != 3 {
		t.Fatalf("%d send spans, want 3", len(sends))
	}

	r := WrapReader(createReader(t, client, pulsar.ReaderOptions{Topic: name, StartMessageID: pulsar.EarliestMessageID()}), tel.Options()...)
	if WrapReader(r) != r {
		t.Error("wrapping a wrapped reader wraps it again")
	}
	if r.Topic() == "" {
		t.Error("Topic does not reach the client's reader")
	}
	procName := "process " + name
	rctx := ctxTimeout(t, telemetrytest.WaitTimeout)
	next := func() pulsar.Message {
		t.Helper()
		m, err := r.Next(rctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	wantEnded := func(n int, after string) {
		t.Helper()
		if got := len(tel.Ended(procName)); got != n {
			t.Fatalf("after %s: %d process spans ended, want %d", after, got, n)
		}
	}

	first := next()
	if string(first.Payload()) != "a" {
		t.Errorf("first message %q, want a", first.Payload())
	}
	fctx := ContextFromMessage(first)
	sc := trace.SpanContextFromContext(fctx)
	var firstSend sdktrace.ReadOnlySpan
	for _, s := range sends {
		if telemetrytest.AttrString(s, semconv.MessagingMessageIDKey) == formatMessageID(first.ID()) {
			firstSend = s
		}
	}
	if firstSend == nil {
		t.Fatal("no send span names the first message's id")
	}
	if sc.TraceID() != firstSend.SpanContext().TraceID() || sc.SpanID() == firstSend.SpanContext().SpanID() {
		t.Error("the message's context is not a span of its own in the producer's trace")
	}
	if v := baggage.FromContext(fctx).Member("tenant").Value(); v != "acme" {
		t.Errorf("baggage tenant=%q on the reader's message, want acme", v)
	}
	if _, wrapped := UnwrapMessage(first).(*tracedMessage); wrapped {
		t.Error("UnwrapMessage returned the wrapper")
	}
	wantEnded(0, "the first Next")

	second := next()
	wantEnded(1, "the second Next")
	span := tel.One(t, procName)
	if span.SpanContext().SpanID() != sc.SpanID() {
		t.Error("the second Next ended a span other than the first message's")
	}
	if span.Parent().SpanID() != firstSend.SpanContext().SpanID() {
		t.Error("the reader's process span is not a child of its message's send span")
	}
	if span.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kind %v, want consumer", span.SpanKind())
	}
	telemetrytest.WantAttr(t, span, semconv.MessagingDestinationNameKey, name)
	telemetrytest.WantAttr(t, span, semconv.MessagingMessageIDKey, formatMessageID(first.ID()))
	telemetrytest.NoAttr(t, span, settlementKey)

	if err := r.Seek(first.ID()); err != nil {
		t.Fatal(err)
	}
	wantEnded(2, "Seek")
	if got := tel.Ended(procName)[1]; got.SpanContext().SpanID() != trace.SpanContextFromContext(ContextFromMessage(second)).SpanID() {
		t.Error("Seek ended a span other than the second message's")
	}

	next()
	wantEnded(2, "the Next after Seek")
	if err := r.SeekByTime(time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	wantEnded(3, "SeekByTime")

	last := next()
	wantEnded(3, "the Next after SeekByTime")
	r.Close()
	wantEnded(4, "Close")
	if got := tel.Ended(procName)[3]; got.SpanContext().SpanID() != trace.SpanContextFromContext(ContextFromMessage(last)).SpanID() {
		t.Error("Close ended a span other than the last message's")
	}
	for _, s := range tel.Ended(procName) {
		if _, ok := sends[s.Parent().SpanID()]; !ok {
			t.Errorf("process span %s has parent %s, not a send span", s.SpanContext().SpanID(), s.Parent().SpanID())
		}
	}
	r.Close()
	wantEnded(4, "a second Close")

	dest := semconv.MessagingDestinationName(name)
	if n := tel.CounterSum(t, "messaging.client.consumed.messages", dest); n != 4 {
		t.Errorf("consumed.messages = %d, want 4", n)
	}
	if n := tel.HistogramCount(t, "messaging.client.operation.duration", dest, semconv.MessagingOperationTypeReceive); n != 4 {
		t.Errorf("receive durations %d, want 4", n)
	}
	if n := tel.HistogramCount(t, "messaging.process.duration", dest); n != 4 {
		t.Errorf("process durations %d, want 4", n)
	}
}

// A Next that fails still ends the previous message's span, and starts
// none.
func TestIntegrationReaderFailedNext(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	r := WrapReader(createReader(t, client, pulsar.ReaderOptions{Topic: name, StartMessageID: pulsar.EarliestMessageID()}), tel.Options()...)
	if _, err := r.Next(ctxTimeout(t, telemetrytest.WaitTimeout)); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := r.Next(done)
	if err == nil || m != nil {
		t.Fatalf("Next with a done context = %v, %v; want a nil message and an error", m, err)
	}
	if n := len(tel.Ended("process " + name)); n != 1 {
		t.Errorf("%d process spans ended after a failed Next, want the previous message's", n)
	}
	r.Close()
	if n := len(tel.Ended("process " + name)); n != 1 {
		t.Errorf("%d process spans ended after Close, want 1", n)
	}
	// context.Canceled is an *errors.errorString.
	failed := []attribute.KeyValue{semconv.MessagingOperationTypeReceive, semconv.ErrorTypeKey.String("*errors.errorString")}
	if n := tel.HistogramCount(t, "messaging.client.operation.duration", failed...); n != 1 {
		t.Errorf("failed receive durations %d, want 1", n)
	}
}

// slowReader's Next returns one message once release is closed.
type slowReader struct {
	pulsar.Reader
	entered, release chan struct{}
}

func (r *slowReader) Topic() string { return "orders" }
func (r *slowReader) Close()        {}
func (r *slowReader) Next(context.Context) (pulsar.Message, error) {
	close(r.entered)
	<-r.release
	return &fakeMessage{topic: "orders", id: pulsar.EarliestMessageID()}, nil
}

// A message that arrives for a Next still waiting when Close ran has its
// span ended at once: nothing after Close would end it.
func TestReaderCloseDuringNextEndsTheSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	raw := &slowReader{entered: make(chan struct{}), release: make(chan struct{})}
	r := WrapReader(raw, tel.Options()...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.Next(context.Background())
	}()
	<-raw.entered
	r.Close()
	close(raw.release)
	<-done
	if n := len(tel.Ended("process orders")); n != 1 {
		t.Fatalf("%d process spans ended, want the one Next started after Close", n)
	}
}
