package watermillbackends_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/servicetest"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// A message whose metadata publishes without tracing publishes with it:
// trace context that would push it over the broker's limit is left out.
// NATS JetStream takes a header block of at most 65,535 bytes; with
// watermill-nats, whose UUID header and "key: value\r\n" framing share it,
// metadata keys and values may total 65,456 bytes. RabbitMQ takes a header
// table that fits one frame (128 KiB by default).
func TestBrokerLimitsDoNotFailPublish(t *testing.T) {
	nats := backend{name: "nats", system: "nats", setup: setupNATS}
	rabbitmq := backend{name: "rabbitmq", system: "rabbitmq", setup: setupRabbitMQ}
	for _, tc := range []struct {
		name string
		b    backend
		// metadataBytes is the sum of the lengths of the message's keys
		// and values.
		metadataBytes int
		// parent tells whether the consumer can still continue the trace:
		// traceparent fits, and only baggage is left out.
		parent bool
	}{
		{name: "nats/nothing fits", b: nats, metadataBytes: 65446},
		{name: "nats/largest", b: nats, metadataBytes: 65456},
		{name: "nats/traceparent fits", b: nats, metadataBytes: 65300, parent: true},
		// The most RabbitMQ takes with its default frame_max of 131,072
		// bytes. (A frame too large makes it close the connection.)
		{name: "rabbitmq/largest", b: rabbitmq, metadataBytes: 130983},
		{name: "rabbitmq/traceparent fits", b: rabbitmq, metadataBytes: 129783, parent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := telemetrytest.New(t)
			errs := captureOTelErrors(t)
			topic := servicetest.UniqueName("limits")
			pub, newSub := tc.b.setup(t, []string{topic})
			opts := tr.Options(asynctrace.WithMessagingSystem(tc.b.system))
			sub := watermilltrace.WrapSubscriber(newSub(), opts...)
			closeOnCleanup(t, sub)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			msgs, err := sub.Subscribe(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			metadata := func() message.Metadata {
				return message.Metadata{"k": strings.Repeat("v", tc.metadataBytes-1)}
			}

			// Without tracing the message fits.
			plain := message.NewMessage(watermill.NewUUID(), []byte("plain"))
			plain.Metadata = metadata()
			if err := pub.Publish(topic, plain); err != nil {
				t.Fatalf("untraced publish of %d bytes of metadata: %v", tc.metadataBytes, err)
			}
			telemetrytest.Recv(t, msgs, "untraced message").Ack()

			member, err := baggage.NewMemberRaw("tenant", strings.Repeat("t", 100))
			if err != nil {
				t.Fatal(err)
			}
			bag, err := baggage.New(member)
			if err != nil {
				t.Fatal(err)
			}
			pctx, root := tr.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
			traced := message.NewMessageWithContext(pctx, watermill.NewUUID(), []byte("traced"))
			traced.Metadata = metadata()
			if err := watermilltrace.WrapPublisher(pub, opts...).Publish(topic, traced); err != nil {
				t.Fatalf("traced publish of %d bytes of metadata: %v", tc.metadataBytes, err)
			}
			root.End()

			got := telemetrytest.Recv(t, msgs, "traced message")
			got.Ack()
			if string(got.Payload) != "traced" || got.Metadata.Get("k") != traced.Metadata.Get("k") {
				t.Errorf("received payload %q and %d bytes of k, want the message as sent", got.Payload, len(got.Metadata.Get("k")))
			}
			if got.Metadata.Get("baggage") != "" {
				t.Error("baggage was sent although it cannot fit")
			}
			send := tr.WaitEnded(t, "send "+topic, 1)[0]
			// The untraced message has a process span too: take the traced one's.
			var proc sdktrace.ReadOnlySpan
			for _, s := range tr.WaitEnded(t, "process "+topic, 2) {
				if s.SpanContext().SpanID() == trace.SpanContextFromContext(got.Context()).SpanID() {
					proc = s
				}
			}
			if proc == nil {
				t.Fatal("no process span for the traced message")
			}
			if send.Status().Code != 0 {
				t.Errorf("send span status %v", send.Status())
			}
			continued := proc.Parent().SpanID() == send.SpanContext().SpanID()
			if continued != tc.parent {
				t.Errorf("consumer continues the send span: %v, want %v", continued, tc.parent)
			}
			if !tc.parent && trace.SpanContextFromContext(got.Context()).TraceID() == root.SpanContext().TraceID() {
				t.Error("the consumer is in the producer's trace although no traceparent was sent")
			}

			dropped := map[string]bool{}
			for _, err := range errs() {
				var le *carrier.LimitError
				if errors.As(err, &le) {
					dropped[le.Key] = true
				}
			}
			if !dropped["baggage"] || dropped["traceparent"] == tc.parent {
				t.Errorf("reported as left out: %v; want baggage, and traceparent: %v", dropped, !tc.parent)
			}
		})
	}
}

// captureOTelErrors collects what is reported through otel.Handle while
// the test runs.
func captureOTelErrors(t *testing.T) func() []error {
	var mu sync.Mutex
	var errs []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}
