package watermilltrace_test

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// discardExporter drops every span: the sampled benchmarks measure the
// instrumentation and the SDK, not an exporter.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// benchModes are the configurations compared: no instrumentation at all,
// instrumentation with tracing disabled, and every message sampled.
func benchModes(b *testing.B) []struct {
	name string
	opts []asynctrace.Option // nil: not instrumented
} {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(discardExporter{}))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return []struct {
		name string
		opts []asynctrace.Option
	}{
		{"undecorated", nil},
		{"disabled", []asynctrace.Option{
			asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}},
		{"sampled", []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}},
	}
}

// BenchmarkOverhead measures what the decorator and the middleware add to
// one message, with no broker: a publish to a publisher that does nothing,
// then the handler chain on the same message.
func BenchmarkOverhead(b *testing.B) {
	for _, mode := range benchModes(b) {
		b.Run(mode.name, func(b *testing.B) {
			var pub message.Publisher = publishFunc(func(string, ...*message.Message) error { return nil })
			h := message.HandlerFunc(func(*message.Message) ([]*message.Message, error) { return nil, nil })
			if mode.opts != nil {
				pub = watermilltrace.WrapPublisher(pub, mode.opts...)
				h = watermilltrace.NewMiddleware(mode.opts...)(h)
			}
			msg := message.NewMessage("bench", []byte("payload"))
			// Never written: the publisher replaces the field with a copy.
			metadata := message.Metadata{"tenant": "acme"}
			base := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				// A fresh message each time, without allocating one.
				msg.Metadata = metadata
				msg.SetContext(base)
				if err := pub.Publish("bench", msg); err != nil {
					b.Fatal(err)
				}
				if _, err := h(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGoChannelRoundTrip measures one message's whole trip: publish
// to GoChannel, the router runs the handler, the message is acked (Publish
// waits for the ack).
func BenchmarkGoChannelRoundTrip(b *testing.B) {
	for _, mode := range benchModes(b) {
		b.Run(mode.name, func(b *testing.B) {
			g := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
			b.Cleanup(func() { _ = g.Close() })
			r := watermilltest.NewRouter(b)
			var pub message.Publisher = g
			if mode.opts != nil {
				r.AddMiddleware(watermilltrace.NewMiddleware(mode.opts...))
				pub = watermilltrace.WrapPublisher(g, mode.opts...)
			}
			r.AddConsumerHandler("bench", "bench", g, func(*message.Message) error { return nil })
			watermilltest.StartRouter(b, r)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := pub.Publish("bench", message.NewMessage("bench", []byte("payload"))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
