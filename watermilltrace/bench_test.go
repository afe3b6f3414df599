package watermilltrace_test

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
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
			var pub message.Publisher = watermilltest.PublishFunc(func(string, ...*message.Message) error { return nil })
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

// The A/B pairs below are what internal/cmd/benchab runs interleaved and
// compares by CPU per operation: the library (/lib) against the same
// tracing written by hand with the same SDK (/hand), and the library with
// the no-op tracer provider (/lib of the Disabled pairs, what
// OTEL_SDK_DISABLED installs) against no decoration (/undecorated).

const abTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func abSampled(b *testing.B) (*sdktrace.TracerProvider, []asynctrace.Option) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, []asynctrace.Option{
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
		asynctrace.WithPropagators(telemetrytest.W3C),
	}
}

var abDisabled = []asynctrace.Option{
	asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
	asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
	asynctrace.WithPropagators(telemetrytest.W3C),
}

var abNopPublisher message.Publisher = watermilltest.PublishFunc(func(string, ...*message.Message) error { return nil })

func nopHandler(*message.Message) ([]*message.Message, error) { return nil, nil }

// abOptions are the options of the sampled library runs, for a tracer
// provider.
func abOptions(tp trace.TracerProvider) []asynctrace.Option {
	return []asynctrace.Option{asynctrace.WithTracerProvider(tp), asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()), asynctrace.WithPropagators(telemetrytest.W3C)}
}

// abPublishLoop publishes one message per iteration without allocating one.
func abPublishLoop(b *testing.B, pub message.Publisher) {
	msg := message.NewMessage("bench", []byte("payload"))
	metadata := message.Metadata{"tenant": "acme"}
	base := context.Background()
	m := benchcpu.Start(b)
	for b.Loop() {
		msg.Metadata = metadata
		msg.SetContext(base)
		if err := pub.Publish("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	m.Stop()
}

// abHandlerLoop runs h on a message carrying a traceparent.
func abHandlerLoop(b *testing.B, h message.HandlerFunc) {
	msg := message.NewMessage("bench", []byte("payload"))
	metadata := message.Metadata{"tenant": "acme", "traceparent": abTraceparent}
	base := context.Background()
	m := benchcpu.Start(b)
	for b.Loop() {
		msg.Metadata = metadata
		msg.SetContext(base)
		if _, err := h(msg); err != nil {
			b.Fatal(err)
		}
	}
	m.Stop()
}

func BenchmarkABPublish(b *testing.B) {
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) { abPublishLoop(b, watermilltrace.WrapPublisher(abNopPublisher, opts...)) })
	b.Run("hand", func(b *testing.B) {
		abPublishLoop(b, watermilltest.NewHand(b, tp, abOptions).Publisher(abNopPublisher))
	})
}

func BenchmarkABHandler(b *testing.B) {
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) { abHandlerLoop(b, watermilltrace.NewMiddleware(opts...)(nopHandler)) })
	b.Run("hand", func(b *testing.B) { abHandlerLoop(b, watermilltest.NewHand(b, tp, abOptions).Middleware(nopHandler)) })
}

func BenchmarkABPublishDisabled(b *testing.B) {
	b.Run("lib", func(b *testing.B) { abPublishLoop(b, watermilltrace.WrapPublisher(abNopPublisher, abDisabled...)) })
	b.Run("undecorated", func(b *testing.B) { abPublishLoop(b, abNopPublisher) })
}

func BenchmarkABHandlerDisabled(b *testing.B) {
	b.Run("lib", func(b *testing.B) { abHandlerLoop(b, watermilltrace.NewMiddleware(abDisabled...)(nopHandler)) })
	b.Run("undecorated", func(b *testing.B) { abHandlerLoop(b, nopHandler) })
}

// abRoundTrip is BenchmarkGoChannelRoundTrip's loop with the given
// publisher decoration and router middleware.
func abRoundTrip(b *testing.B, wrap func(message.Publisher) message.Publisher, mw message.HandlerMiddleware) {
	g := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	b.Cleanup(func() { _ = g.Close() })
	r := watermilltest.NewRouter(b)
	if mw != nil {
		r.AddMiddleware(mw)
	}
	pub := wrap(g)
	r.AddConsumerHandler("bench", "bench", g, func(*message.Message) error { return nil })
	watermilltest.StartRouter(b, r)
	m := benchcpu.Start(b)
	for b.Loop() {
		if err := pub.Publish("bench", message.NewMessage("bench", []byte("payload"))); err != nil {
			b.Fatal(err)
		}
	}
	m.Stop()
}

func BenchmarkABGoChannel(b *testing.B) {
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) {
		abRoundTrip(b, func(p message.Publisher) message.Publisher { return watermilltrace.WrapPublisher(p, opts...) }, watermilltrace.NewMiddleware(opts...))
	})
	b.Run("hand", func(b *testing.B) {
		h := watermilltest.NewHand(b, tp, abOptions)
		abRoundTrip(b, h.Publisher, h.Middleware)
	})
}

func BenchmarkABGoChannelDisabled(b *testing.B) {
	b.Run("lib", func(b *testing.B) {
		abRoundTrip(b, func(p message.Publisher) message.Publisher { return watermilltrace.WrapPublisher(p, abDisabled...) }, watermilltrace.NewMiddleware(abDisabled...))
	})
	b.Run("undecorated", func(b *testing.B) {
		abRoundTrip(b, func(p message.Publisher) message.Publisher { return p }, nil)
	})
}
