package pulsartrace

import (
	"context"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// A channel asked for and never read must not keep a message away from
// Receive: the client holds it for the wrapper until Close otherwise.
func TestIntegrationChanUnreadLeavesMessagesToReceive(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	defer c.Close()
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	const n = 5
	for i := range n {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Chan()
	// Give whatever feeds the channel the chance to take a message ahead
	// of any reader: the messages must still reach Receive.
	waitFor(t, 10*time.Second, "the client to deliver", func() bool {
		return len(c.(*consumer).Consumer.Chan()) > 0 || unsettledOf(c) > 0
	})
	seen := map[byte]bool{}
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := c.Receive(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Receive %d of %d after an unread Chan: %v", i+1, n, err)
		}
		if !trace.SpanContextFromContext(ContextFromMessage(m)).IsValid() {
			t.Errorf("message %d from Receive carries no process span", i+1)
		}
		seen[m.Payload()[0]] = true
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Errorf("Receive got %d distinct messages, want %d", len(seen), n)
	}
	if got := len(tel.Ended("process " + name)); got != n {
		t.Errorf("%d process spans ended after acking %d messages", got, n)
	}
}

// Receive and the channel draw on one stream: both kinds of reader get
// traced messages, none is lost or delivered twice.
func TestIntegrationChanAndReceiveShareMessages(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	defer c.Close()
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	const n = 6
	sends := map[byte]trace.TraceID{}
	for i := range n {
		ctx, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "publish")
		if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		span.End()
		sends[byte(i)] = span.SpanContext().TraceID()
	}
	ch := c.Chan()
	seen := map[byte]bool{}
	check := func(how string, m pulsar.Message) {
		t.Helper()
		id := m.Payload()[0]
		if seen[id] {
			t.Errorf("message %d delivered twice (second time by %s)", id, how)
		}
		seen[id] = true
		if got := trace.SpanContextFromContext(ContextFromMessage(m)).TraceID(); got != sends[id] {
			t.Errorf("message %d from %s is in trace %s, want the producer's %s", id, how, got, sends[id])
		}
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if i%2 == 0 {
			select {
			case cm := <-ch:
				if cm.Consumer != c {
					t.Error("ConsumerMessage.Consumer is not the wrapper")
				}
				check("Chan", cm.Message)
			case <-time.After(10 * time.Second):
				t.Fatalf("no message %d of %d on Chan", i+1, n)
			}
			continue
		}
		m, err := c.Receive(ctxTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatalf("Receive %d of %d: %v", i+1, n, err)
		}
		check("Receive", m)
	}
	if len(seen) != n {
		t.Errorf("%d distinct messages, want %d", len(seen), n)
	}
	if got := len(tel.Ended("process " + name)); got != n {
		t.Errorf("%d process spans ended after acking %d messages", got, n)
	}
}

type ctxKey struct{}

// A message the channel's goroutine took ahead and Handle's receive then
// gets starts its span before the caller's context is known; the context
// handed on must still be the caller's, with the span.
func TestReceiveContextOfMessageTakenForChan(t *testing.T) {
	tel := telemetrytest.New(t)
	props, send := produced(t, tel, tel.Options(), context.Background(), nil)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, tel.Options()...)
	defer c.Close()
	_ = c.Chan()
	fc.push(message(1, props))
	waitFor(t, 5*time.Second, "the message to be taken for Chan", func() bool { return unsettledOf(c) == 1 })

	ctx := context.WithValue(ctxTimeout(t, 5*time.Second), ctxKey{}, "caller")
	pctx, m, err := c.(*consumer).receiveContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pctx.Value(ctxKey{}) != "caller" {
		t.Error("the context lost the caller's values")
	}
	if pctx.Done() != ctx.Done() {
		t.Error("the context is not done with the caller's")
	}
	if got := trace.SpanContextFromContext(pctx); !got.Equal(trace.SpanContextFromContext(ContextFromMessage(m))) || got.TraceID() != send.SpanContext().TraceID() {
		t.Error("the context does not carry the message's process span")
	}
	if err := c.Ack(m); err != nil {
		t.Fatal(err)
	}
	tel.One(t, "process orders")
}
