package pulsartrace

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// TestIntegrationSettleAndReceiveSpans sends over the real client and
// checks the opt-in receive and settle spans and how they relate to the
// send and process spans.
func TestIntegrationSettleAndReceiveSpans(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := WrapClient(b.client(t), tel.Options(asynctrace.WithSettleSpans(), asynctrace.WithReceiveSpans())...)
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name, Name: "billing-1", Type: pulsar.Failover})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name, Name: "gateway-1"})

	ctx := ctxTimeout(t, 10*time.Second)
	for i := range 3 {
		if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	caller, root := tel.Root(ctx, "poll")
	m1, err := c.Receive(caller)
	if err != nil {
		t.Fatal(err)
	}
	root.End()
	if err := c.Ack(m1); err != nil {
		t.Fatal(err)
	}
	m2, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Nack(m2)
	m3, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AckCumulative(m3); err != nil {
		t.Fatal(err)
	}

	sends := tel.Ended("send " + name)
	if len(sends) != 3 {
		t.Fatalf("%d send spans, want 3", len(sends))
	}
	telemetrytest.WantAttr(t, sends[0], semconv.MessagingClientIDKey, "gateway-1")
	recvs := tel.Ended("receive " + name)
	if len(recvs) != 3 {
		t.Fatalf("%d receive spans, want 3", len(recvs))
	}
	r1 := recvs[0]
	if r1.SpanKind() != trace.SpanKindClient || r1.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Errorf("receive span: kind %v parent %v, want CLIENT child of the caller", r1.SpanKind(), r1.Parent().SpanID())
	}
	if !telemetrytest.HasLinkTo(r1, sends[0].SpanContext()) {
		t.Error("receive span does not link to the send span")
	}
	telemetrytest.WantAttr(t, r1, semconv.MessagingClientIDKey, "billing-1")
	telemetrytest.WantAttr(t, r1, semconv.MessagingMessageIDKey, formatMessageID(m1.ID()))

	procs := tel.Ended("process " + name)
	if len(procs) != 3 {
		t.Fatalf("%d process spans, want 3", len(procs))
	}
	p1 := procs[0]
	if p1.Parent().SpanID() != sends[0].SpanContext().SpanID() || !telemetrytest.HasLinkTo(p1, r1.SpanContext()) {
		t.Error("process span is not the send span's child linked to the receive span")
	}
	for _, tc := range []struct {
		span    string
		proc    int
		ackType string
	}{
		{"ack " + name, 0, "acknowledge"},
		{"nack " + name, 1, "negative_acknowledge"},
		{"cumulative_ack " + name, 2, "cumulative_acknowledge"},
	} {
		s := tel.One(t, tc.span)
		if s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != procs[tc.proc].SpanContext().SpanID() {
			t.Errorf("%s: kind %v, not a CLIENT child of its process span", tc.span, s.SpanKind())
		}
		if !telemetrytest.HasLinkTo(s, sends[tc.proc].SpanContext()) {
			t.Errorf("%s does not link to its send span", tc.span)
		}
		telemetrytest.WantAttr(t, s, semconv.MessagingOperationTypeKey, "settle")
		telemetrytest.WantAttr(t, procs[tc.proc], AcknowledgmentTypeKey, tc.ackType)
		telemetrytest.NoAttr(t, procs[tc.proc], messaging.SettlementKey)
	}
}

func TestIntegrationDefaultHasNoReceiveOrSettleSpans(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := WrapClient(b.client(t), tel.Options()...)
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Ack(m)
	if got := telemetrytest.SpanNames(tel.Recorder.Ended()); len(got) != 2 {
		t.Errorf("spans %v, want only send and process", got)
	}
	// A topic that is not partitioned has no partition.
	telemetrytest.NoAttr(t, tel.One(t, "process "+name), semconv.MessagingDestinationPartitionIDKey)
	telemetrytest.NoAttr(t, tel.One(t, "send "+name), semconv.MessagingDestinationPartitionIDKey)
}

func TestIntegrationPartitionID(t *testing.T) {
	b := newBroker(t)
	srv := b.needServer(t)
	name := topic(t)
	if err := srv.CreatePartitionedTopic(name, 2); err != nil {
		t.Fatal(err)
	}
	tel := telemetrytest.New(t)
	client := WrapClient(b.client(t), tel.Options()...)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	ctx := ctxTimeout(t, 10*time.Second)
	id, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x"), Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Ack(m)
	want := fmt.Sprint(id.PartitionIdx())
	telemetrytest.WantAttr(t, tel.One(t, "send "+name), semconv.MessagingDestinationPartitionIDKey, want)
	telemetrytest.WantAttr(t, tel.One(t, "process "+name), semconv.MessagingDestinationPartitionIDKey, want)
}

func TestIntegrationLinkAfter(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	// Any real wait is longer than a nanosecond: every message is late.
	client := WrapClient(b.client(t), tel.Options(asynctrace.WithLinkAfter(time.Nanosecond))...)
	name := topic(t)
	c := subscribe(t, client, pulsar.ConsumerOptions{Topic: name})
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Ack(m)
	send, proc := tel.One(t, "send "+name), tel.One(t, "process "+name)
	if proc.Parent().IsValid() || !telemetrytest.HasLinkTo(proc, send.SpanContext()) {
		t.Error("a late message's process span is not a new root linked to the send span")
	}
	if _, ok := telemetrytest.Attr(proc, messaging.WaitKey); !ok {
		t.Error("no wait recorded")
	}
}

func TestIntegrationReaderReceiveSpan(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := WrapClient(b.client(t), tel.Options(asynctrace.WithReceiveSpans())...)
	name := topic(t)
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	r, err := client.CreateReader(pulsar.ReaderOptions{Topic: name, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	recv, proc := tel.One(t, "receive "+name), tel.One(t, "process "+name)
	if !telemetrytest.HasLinkTo(proc, recv.SpanContext()) || !telemetrytest.HasLinkTo(recv, tel.One(t, "send "+name).SpanContext()) {
		t.Error("reader's receive span is not linked between send and process")
	}
}

// The keys this package exports are the ones the core records and
// docs/semconv.md lists.
func TestExportedKeysAreTheCoreKeys(t *testing.T) {
	for got, want := range map[attribute.Key]attribute.Key{
		RedeliveryCountKey:    messaging.PulsarRedeliveryCountKey,
		ReconsumeTimesKey:     messaging.PulsarReconsumeTimesKey,
		AcknowledgmentTypeKey: messaging.PulsarAcknowledgmentTypeKey,
	} {
		if got != want {
			t.Errorf("exported %s, the core records %s", got, want)
		}
	}
}
