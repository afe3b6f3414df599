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

// NATS JetStream takes a header block of at most 65,535 bytes. With
// watermill-nats, a message's metadata (keys and values) may then total
// 65,456 bytes, as it is encoded beside the "NATS/1.0" line, watermill's
// own UUID header and "key: value\r\n" framing. Tracing must not push a
// message that publishes without it over that limit: what does not fit
// is left out, and the message goes through.
func TestNATSHeaderLimitDoesNotFailPublish(t *testing.T) {
	for _, tc := range []struct {
		name string
		// metadataBytes is the sum of the lengths of the message's keys
		// and values.
		metadataBytes int
		// parent tells whether the consumer can still continue the trace:
		// traceparent fits, and only baggage is left out.
		parent bool
	}{
		{name: "nothing fits", metadataBytes: 65446},
		{name: "traceparent fits", metadataBytes: 65300, parent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := telemetrytest.New(t)
			errs := captureOTelErrors(t)
			topic := servicetest.UniqueName("limits")
			pub, newSub := setupNATS(t, []string{topic})
			opts := tr.Options(asynctrace.WithMessagingSystem("nats"))
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
