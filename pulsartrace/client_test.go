package pulsartrace

import (
	"context"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// wrappedClient is a client of b wrapped with opts; the client is closed
// when the test ends, after the producers and consumers made from it.
func wrappedClient(t *testing.T, b *broker, opts ...asynctrace.Option) pulsar.Client {
	t.Helper()
	return WrapClient(b.client(t), opts...)
}

// Everything a wrapped client creates is traced with the client's options,
// and a message keeps one trace from the send to the processing.
func TestIntegrationWrapClientTracesWhatItCreates(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := wrappedClient(t, b, tel.Options(WithServiceURL(b.url))...)
	if WrapClient(client) != client {
		t.Error("wrapping a wrapped client wraps it again")
	}
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	if _, ok := c.(*consumer); !ok {
		t.Fatalf("Subscribe returned %T, want a traced consumer", c)
	}
	if _, ok := p.(*producer); !ok {
		t.Fatalf("CreateProducer returned %T, want a traced producer", p)
	}
	if WrapConsumer(c) != c || WrapProducer(p) != p {
		t.Error("wrapping what a wrapped client made wraps it again")
	}

	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, parent := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
	id, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("hello")})
	parent.End()
	if err != nil {
		t.Fatal(err)
	}
	got := consumeOne(t, c, "Handle")
	if v := baggage.FromContext(got.ctx).Member("tenant").Value(); v != "acme" {
		t.Errorf("baggage tenant=%q in the handler, want acme", v)
	}

	send := tel.One(t, "send "+name)
	proc := tel.WaitEnded(t, "process "+name, 1)[0]
	if send.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Error("send span is not a child of the caller's span")
	}
	if proc.Parent().SpanID() != send.SpanContext().SpanID() || proc.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Error("process span is not a child of the send span in the caller's trace")
	}
	if trace.SpanContextFromContext(got.ctx).SpanID() != proc.SpanContext().SpanID() {
		t.Error("handler context does not carry the process span")
	}
	host, port, _ := parseServiceURL(b.url)
	for _, s := range tel.Recorder.Ended() {
		if s.Name() == "request" {
			continue
		}
		telemetrytest.WantAttr(t, s, semconv.ServerAddressKey, host)
		telemetrytest.WantAttr(t, s, semconv.ServerPortKey, int64(port))
	}
	telemetrytest.WantAttr(t, send, semconv.MessagingMessageIDKey, formatMessageID(id))
	telemetrytest.WantAttr(t, proc, settlementKey, "acknowledge")

	// A reader of the same client reads the message in the same trace.
	r, err := client.CreateReader(pulsar.ReaderOptions{Topic: name, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*reader); !ok {
		t.Fatalf("CreateReader returned %T, want a traced reader", r)
	}
	m, err := r.Next(ctxTimeout(t, telemetrytest.WaitTimeout))
	if err != nil {
		t.Fatal(err)
	}
	if sc := trace.SpanContextFromContext(ContextFromMessage(m)); sc.TraceID() != send.SpanContext().TraceID() {
		t.Error("the reader's message is not in the producer's trace")
	}
	r.Close()
	procs := tel.Ended("process " + name)
	if len(procs) != 2 {
		t.Fatalf("%d process spans after the reader closed, want 2 (consumer and reader)", len(procs))
	}
	read := procs[1]
	if read.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Error("the reader's process span is not a child of the send span")
	}
	telemetrytest.WantAttr(t, read, semconv.ServerAddressKey, host)
	telemetrytest.NoAttr(t, read, settlementKey)
}

// WithMaxUnsettled given to WrapClient bounds the consumers it creates.
func TestIntegrationWrapClientAppliesMaxUnsettled(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := wrappedClient(t, b, tel.Options(WithMaxUnsettled(2))...)
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	for i := range 3 {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxTimeout(t, telemetrytest.WaitTimeout)
	for range 3 {
		if _, err := c.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := unsettledOf(c); n != 2 {
		t.Errorf("%d unsettled, want the bound 2", n)
	}
	ended := tel.Ended("process " + name)
	if len(ended) != 1 {
		t.Fatalf("%d process spans ended past the bound, want 1", len(ended))
	}
	telemetrytest.WantAttr(t, ended[0], settlementKey, "abandoned")
}

// Closing the wrapped client ends the spans of messages its consumers and
// readers handed out and nobody settled, instead of leaving them open.
func TestIntegrationWrapClientCloseEndsOpenSpans(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := WrapClient(b.client(t), tel.Options()...)
	name := topic(t)
	c, err := client.Subscribe(pulsar.ConsumerOptions{Topic: name, SubscriptionName: "close"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := client.CreateReader(pulsar.ReaderOptions{Topic: name, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	ctx := ctxTimeout(t, telemetrytest.WaitTimeout)
	if _, err := c.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.Ended("process " + name)); n != 0 {
		t.Fatalf("%d process spans ended before Close, want 0", n)
	}
	client.Close()
	ended := tel.Ended("process " + name)
	if len(ended) != 2 {
		t.Fatalf("%d process spans ended by the client's Close, want the consumer's and the reader's", len(ended))
	}
}

// The wrapped client's errors pass through, and its other methods reach the
// client.
func TestIntegrationWrapClientPassesThrough(t *testing.T) {
	b := newBroker(t)
	client := wrappedClient(t, b, telemetrytest.New(t).Options()...)
	// On error the client's own return values come back, unwrapped.
	if p, err := client.CreateProducer(pulsar.ProducerOptions{}); err == nil {
		t.Error("CreateProducer without a topic succeeded")
	} else if _, wrapped := p.(*producer); wrapped {
		t.Error("CreateProducer wrapped the producer of a failed call")
	}
	if c, err := client.Subscribe(pulsar.ConsumerOptions{Topic: topic(t)}); err == nil || c != nil {
		t.Errorf("Subscribe without a subscription name = %v, %v; want the client's error", c, err)
	}
	if r, err := client.CreateReader(pulsar.ReaderOptions{Topic: topic(t)}); err == nil || r != nil {
		t.Errorf("CreateReader without a start position = %v, %v; want the client's error", r, err)
	}
	name := topic(t)
	parts, err := client.TopicPartitions(name)
	if err != nil || len(parts) != 1 {
		t.Errorf("TopicPartitions(%s) = %v, %v", name, parts, err)
	}
}

// A service that sets up only a tracer provider (no propagator option, and
// OpenTelemetry's global propagator left as the no-op it starts as) still
// gets one trace across the broker.
func TestIntegrationContextFlowsWithOnlyATracerProvider(t *testing.T) {
	if fields := otel.GetTextMapPropagator().Fields(); len(fields) != 0 {
		t.Fatalf("a global propagator is installed (fields %v); this test needs OpenTelemetry's default", fields)
	}
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := wrappedClient(t, b, asynctrace.WithTracerProvider(tel.TracerProvider))
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})

	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, parent := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	got := consumeOne(t, c, "Receive")
	if v := baggage.FromContext(got.ctx).Member("tenant").Value(); v != "acme" {
		t.Errorf("baggage tenant=%q in the consumer, want acme", v)
	}
	send := tel.One(t, "send "+name)
	proc := tel.One(t, "process "+name)
	if proc.SpanContext().TraceID() != send.SpanContext().TraceID() || proc.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Errorf("process span in trace %s with parent %s; want a child of the send span %s in trace %s",
			proc.SpanContext().TraceID(), proc.Parent().SpanID(), send.SpanContext().SpanID(), send.SpanContext().TraceID())
	}
	if b.srv != nil {
		props := b.srv.Messages(name)[0].Properties
		if props["traceparent"] == "" || props["baggage"] != "tenant=acme" {
			t.Errorf("stored properties %v, want W3C traceparent and baggage", props)
		}
	}
}

// A propagator given as an option replaces the W3C default: with only
// Baggage, the baggage travels and the trace context does not.
func TestIntegrationPropagatorOptionWins(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := wrappedClient(t, b,
		asynctrace.WithTracerProvider(tel.TracerProvider),
		asynctrace.WithPropagators(propagation.Baggage{}))
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})

	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, parent := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	got := consumeOne(t, c, "Receive")
	if props := got.msg.Properties(); props["traceparent"] != "" || props["baggage"] != "tenant=acme" {
		t.Errorf("received properties %v, want baggage and no traceparent", props)
	}
	if v := baggage.FromContext(got.ctx).Member("tenant").Value(); v != "acme" {
		t.Errorf("baggage tenant=%q in the consumer, want acme", v)
	}
	send := tel.One(t, "send "+name)
	proc := tel.One(t, "process "+name)
	if proc.Parent().IsValid() || proc.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Error("the process span continues the send span's trace, which the Baggage propagator does not carry")
	}
}
