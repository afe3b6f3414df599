//go:build !race

// These tests make producers reconnect. pulsar-client-go v0.19.0 has a data
// race of its own in the producer reconnect path, which the race detector
// reports for the client's code; the tests run without -race only, so that
// every other test can run with it and report races of this package.

package pulsartrace

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

func TestIntegrationFailedSendRecordsError(t *testing.T) {
	b := newBroker(t)
	srv := b.needServer(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name, DisableBatching: true}), tel.Options()...)

	srv.FailNextSends(1)
	_, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("lost")})
	if err == nil {
		t.Fatal("Send succeeded although the broker failed it")
	}
	id, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("kept")})
	if err != nil {
		t.Fatalf("Send after the producer reconnected: %v", err)
	}
	spans := tel.Ended("send " + name)
	if len(spans) != 2 {
		t.Fatalf("%d send spans, want 2", len(spans))
	}
	failed, ok := spans[0], spans[1]
	if failed.Status().Code != codes.Error {
		t.Errorf("failed send's span status %v, want error", failed.Status())
	}
	if _, has := telemetrytest.Attr(failed, semconv.ErrorTypeKey); !has {
		t.Error("failed send's span has no error.type")
	}
	if ok.Status().Code == codes.Error {
		t.Error("the next send's span has an error")
	}
	telemetrytest.WantAttr(t, ok, semconv.MessagingMessageIDKey, formatMessageID(id))
}

func TestIntegrationDroppedConnectionsLoseNothing(t *testing.T) {
	b := newBroker(t)
	srv := b.needServer(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name, ReceiverQueueSize: 100}), tel.Options()...)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name, SendTimeout: 5 * time.Second}), tel.Options()...)

	// Consume in the background, as a service would.
	var mu sync.Mutex
	got := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	handled := make(chan error, 1)
	go func() {
		handled <- Handle(ctx, c, func(_ context.Context, m pulsar.Message) error {
			mu.Lock()
			got[string(m.Payload())]++
			mu.Unlock()
			return nil
		})
	}()

	const n = 300
	var wg sync.WaitGroup
	var omu sync.Mutex
	outcome := map[string]error{}
	for i := range n {
		switch i {
		case n / 3, 2 * n / 3:
			srv.DropConnections()
		case n / 2:
			// A failed persist: the client fails the sends pending on
			// the producer, so some spans must carry errors. Flushing
			// first keeps the failure to the sends that follow.
			if err := p.FlushWithCtx(ctxTimeout(t, 30*time.Second)); err != nil {
				t.Logf("flush: %v", err)
			}
			srv.FailNextSends(1)
		case n/2 + 10:
			// Let the producer come back before sending the rest.
			_ = p.FlushWithCtx(ctxTimeout(t, 30*time.Second))
		}
		payload := strconv.Itoa(i)
		wg.Add(1)
		p.SendAsync(context.Background(), &pulsar.ProducerMessage{Payload: []byte(payload)}, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			omu.Lock()
			outcome[payload] = err
			omu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()

	var sent []string
	failures := 0
	for payload, err := range outcome {
		if err == nil {
			sent = append(sent, payload)
		} else {
			failures++
		}
	}
	t.Logf("%d sends succeeded, %d failed across two dropped connections and a failed persist", len(sent), failures)
	if failures == 0 {
		t.Fatal("no send failed; the test did not exercise failed sends")
	}
	waitFor(t, 30*time.Second, "every successfully sent message to be processed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, payload := range sent {
			if got[payload] == 0 {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-handled; err != nil {
		t.Fatalf("Handle: %v", err)
	}
	c.Close()

	sends := tel.Ended("send " + name)
	if len(sends) != n {
		t.Fatalf("%d send spans ended, want %d (one per message, each once)", len(sends), n)
	}
	// The SDK ignores a second End of a span, so the span count alone
	// cannot show that no span was ended twice; the sent counter, which
	// every End adds to, can.
	if got := tel.CounterSum(t, "messaging.client.sent.messages"); got != n {
		t.Errorf("sent.messages = %d, want %d: a send span was ended more or less than once", got, n)
	}
	var errorSpans int
	for _, s := range sends {
		if s.Status().Code == codes.Error {
			errorSpans++
		}
	}
	if errorSpans != failures {
		t.Errorf("%d send spans carry an error, %d sends failed", errorSpans, failures)
	}
	bySpan := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range sends {
		bySpan[s.SpanContext().SpanID().String()] = s
	}
	for _, s := range tel.Ended("process " + name) {
		if _, ok := bySpan[s.Parent().SpanID().String()]; !ok {
			t.Fatalf("a process span's parent %s is not a send span", s.Parent().SpanID())
		}
	}
	if unsettledOf(c) != 0 {
		t.Errorf("%d unsettled after Close", unsettledOf(c))
	}
}
