package pulsartrace

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel"

	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// The client fails a send whose payload and metadata together exceed the
// broker's maximum message size (5 MiB by default). A payload that fits
// without tracing must still be sent with it: the trace context that does
// not fit is left out.
func TestIntegrationTraceContextNeverPushesSendOverMaxMessageSize(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	var mu sync.Mutex
	var dropped []string
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		var le *carrier.LimitError
		if errors.As(err, &le) {
			mu.Lock()
			dropped = append(dropped, le.Key)
			mu.Unlock()
		}
	}))
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	defer c.Close()
	raw := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	payload := make([]byte, largestPayload(t, client))

	if _, err := raw.Send(context.Background(), &pulsar.ProducerMessage{Payload: payload}); err != nil {
		t.Fatalf("untraced send of %d bytes: %v", len(payload), err)
	}
	ctx, root := tel.Root(context.Background(), "request")
	_, err := WrapProducer(raw, tel.Options()...).Send(ctx, &pulsar.ProducerMessage{Payload: payload})
	root.End()
	if err != nil {
		t.Fatalf("traced send of %d bytes: %v", len(payload), err)
	}
	for i := range 2 {
		m, err := c.Receive(ctxTimeout(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Receive %d: %v", i+1, err)
		}
		if len(m.Payload()) != len(payload) {
			t.Errorf("message %d: %d bytes of payload, want %d", i+1, len(m.Payload()), len(payload))
		}
		if _, ok := m.Properties()["traceparent"]; ok {
			t.Errorf("message %d carries a traceparent that cannot fit", i+1)
		}
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dropped) != 1 || dropped[0] != "traceparent" {
		t.Errorf("reported as left out: %v, want [traceparent]", dropped)
	}
}

// largestPayload finds the largest payload the client sends without
// tracing: the broker's maximum message size less the message's metadata.
func largestPayload(t *testing.T, client pulsar.Client) int {
	t.Helper()
	p := createProducer(t, client, pulsar.ProducerOptions{Topic: topic(t) + "-probe"})
	lo, hi := 5<<20-4096, 5<<20
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: make([]byte, mid)}); err != nil {
			if !errors.Is(err, pulsar.ErrMessageTooLarge) && !strings.Contains(err.Error(), "exceeds MaxMessageSize") {
				t.Fatalf("probing send of %d bytes: %v", mid, err)
			}
			hi = mid - 1
		} else {
			lo = mid
		}
	}
	return lo
}
