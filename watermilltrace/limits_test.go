package watermilltrace_test

import (
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// publishedMetadata publishes one message with metadata md and payload
// through a wrapped publisher and returns the metadata the broker got.
func publishedMetadata(t *testing.T, md message.Metadata, payload []byte, opts ...asynctrace.Option) message.Metadata {
	t.Helper()
	tel := telemetrytest.New(t)
	var got message.Metadata
	pub := watermilltrace.WrapPublisher(watermilltest.PublishFunc(func(_ string, msgs ...*message.Message) error {
		got = msgs[0].Metadata
		return nil
	}), tel.Options(opts...)...)
	ctx, root := tel.Root(t.Context(), "request")
	defer root.End()
	msg := message.NewMessageWithContext(ctx, "id", payload)
	msg.Metadata = md
	if err := pub.Publish("t", msg); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPublisherKeepsTraceContextWithinBrokerLimits(t *testing.T) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	// A NATS header block near its 65,535-byte limit.
	bigHeaders := func() message.Metadata { return message.Metadata{"k": strings.Repeat("v", 65400)} }
	for _, tc := range []struct {
		name    string
		md      message.Metadata
		payload []byte
		opts    []asynctrace.Option
		want    bool
	}{
		{name: "watermill has no limit", md: bigHeaders(), want: true},
		{name: "nats headers", md: bigHeaders(), opts: []asynctrace.Option{asynctrace.WithMessagingSystem("nats")}},
		{name: "redis has no limit", md: bigHeaders(), opts: []asynctrace.Option{asynctrace.WithMessagingSystem("redis")}, want: true},
		{name: "kafka record", payload: make([]byte, 999_000), opts: []asynctrace.Option{asynctrace.WithMessagingSystem("kafka")}},
		{name: "kafka record with room", payload: make([]byte, 990_000), opts: []asynctrace.Option{asynctrace.WithMessagingSystem("kafka")}, want: true},
		{name: "explicit limits win", md: message.Metadata{"a": "b"}, opts: []asynctrace.Option{
			asynctrace.WithMessagingSystem("redis"),
			watermilltrace.WithMetadataLimits(carrier.Limits{MaxEntries: 1}),
		}},
		{name: "explicit limits replace the system's", md: bigHeaders(), opts: []asynctrace.Option{
			asynctrace.WithMessagingSystem("nats"),
			watermilltrace.WithMetadataLimits(carrier.Limits{}),
		}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := publishedMetadata(t, tc.md, tc.payload, tc.opts...)
			if has := got.Get("traceparent") != ""; has != tc.want {
				t.Errorf("traceparent sent: %v, want %v", has, tc.want)
			}
			for k, v := range tc.md {
				if got.Get(k) != v {
					t.Errorf("metadata %q changed", k)
				}
			}
		})
	}
}

func TestWithMetadataLimitsPanicsOnNegative(t *testing.T) {
	telemetrytest.WantPanic(t, "watermilltrace.WithMetadataLimits: MaxTotalBytes must not be negative, got -1", func() {
		watermilltrace.WithMetadataLimits(carrier.Limits{MaxTotalBytes: -1})
	})
}
