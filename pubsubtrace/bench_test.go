package pubsubtrace_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// benchVariant is one way of publishing and receiving.
type benchVariant struct {
	name string
	// builtIn turns on the client's built-in tracing (with the global
	// tracer provider set to tp).
	builtIn bool
	// wrap uses pubsubtrace on both ends.
	wrap bool
	// tp is the tracer provider; nil means tracing disabled (no-op).
	sampled bool
}

var benchVariants = []benchVariant{
	{name: "plain"},
	{name: "pubsubtrace/disabled", wrap: true},
	{name: "pubsubtrace/sampled", wrap: true, sampled: true},
	{name: "builtin/disabled", builtIn: true},
	{name: "builtin/sampled", builtIn: true, sampled: true},
}

// benchTracerProvider samples every span and exports nothing, so that the
// measurement is the cost of creating spans, not of exporting them.
func benchTracerProvider(b *testing.B, sampled bool) trace.TracerProvider {
	if !sampled {
		return tracenoop.NewTracerProvider()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

func benchOptions(tp trace.TracerProvider) []asynctrace.Option {
	return []asynctrace.Option{
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
		asynctrace.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	}
}

func useGlobalTracerProvider(b *testing.B, tp trace.TracerProvider) {
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
}

// BenchmarkPublishReceive publishes b.N messages through pstest and receives
// them all; one op is one message published and processed. msgs/s is the
// end-to-end throughput.
func BenchmarkPublishReceive(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			tp := benchTracerProvider(b, v.sampled)
			var cfg *pubsub.ClientConfig
			if v.builtIn {
				useGlobalTracerProvider(b, tp)
				cfg = &pubsub.ClientConfig{EnableOpenTelemetryTracing: true}
			} else {
				useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
			}
			f := newFake(b, cfg)
			raw := f.client.Publisher(topicName)
			publish := raw.Publish
			stop := raw.Stop
			if v.wrap {
				pub := pubsubtrace.WrapPublisher(raw, benchOptions(tp)...)
				publish, stop = pub.Publish, pub.Stop
			}
			var received atomic.Int64
			target := int64(b.N)
			all := make(chan struct{})
			handler := func(_ context.Context, m *pubsub.Message) {
				m.Ack()
				if received.Add(1) == target {
					close(all)
				}
			}
			sub := f.client.Subscriber(subName)
			// The fake hands each stream one message per 10 ms tick; more
			// streams keep it from being the only bottleneck.
			sub.ReceiveSettings.NumGoroutines = 32
			if v.wrap {
				handler = pubsubtrace.WrapHandler(sub, handler, benchOptions(tp)...)
			}
			ctx, cancel := context.WithCancel(context.Background())
			receiveDone := make(chan error, 1)
			go func() { receiveDone <- sub.Receive(ctx, handler) }()

			parentCtx := context.Background()
			if v.sampled {
				var span trace.Span
				parentCtx, span = tp.Tracer("bench").Start(parentCtx, "request")
				defer span.End()
			}
			data := []byte("benchmark payload")
			results := make([]*pubsub.PublishResult, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			start, cpuStart := time.Now(), processCPU()
			for range b.N {
				results = append(results, publish(parentCtx, &pubsub.Message{Data: data, Attributes: map[string]string{"k": "v"}}))
			}
			select {
			case <-all:
			case <-time.After(time.Minute):
				b.Fatalf("received %d of %d", received.Load(), b.N)
			}
			elapsed, cpu := time.Since(start), processCPU()-cpuStart
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			// The wall time per message is set by the fake's delivery
			// ticks; the CPU time per message is what tracing costs.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			for _, r := range results {
				if _, err := r.Get(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			stop()
			cancel()
			if err := <-receiveDone; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkPublish measures the publish call alone: the wrapper's cost on
// the caller's goroutine plus ending the spans in the background. The
// results are settled after the timer stops.
func BenchmarkPublish(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			tp := benchTracerProvider(b, v.sampled)
			var cfg *pubsub.ClientConfig
			if v.builtIn {
				useGlobalTracerProvider(b, tp)
				cfg = &pubsub.ClientConfig{EnableOpenTelemetryTracing: true}
			} else {
				useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
			}
			f := newFake(b, cfg)
			raw := f.client.Publisher(topicName)
			// Hold every message in the client so that the gRPC calls and
			// the fake server stay out of the measurement.
			raw.PublishSettings.DelayThreshold = time.Hour
			raw.PublishSettings.CountThreshold = pubsub.MaxPublishRequestCount
			raw.PublishSettings.ByteThreshold = 1 << 30
			publish := raw.Publish
			stop := raw.Stop
			if v.wrap {
				pub := pubsubtrace.WrapPublisher(raw, benchOptions(tp)...)
				publish, stop = pub.Publish, pub.Stop
			}
			parentCtx := context.Background()
			if v.sampled {
				var span trace.Span
				parentCtx, span = tp.Tracer("bench").Start(parentCtx, "request")
				defer span.End()
			}
			msgs := make([]pubsub.Message, b.N)
			data := []byte("benchmark payload")
			attrs := map[string]string{"k": "v"}
			b.ReportAllocs()
			b.ResetTimer()
			cpuStart := processCPU()
			for i := range b.N {
				msgs[i] = pubsub.Message{Data: data, Attributes: attrs}
				publish(parentCtx, &msgs[i])
			}
			cpu := processCPU() - cpuStart
			b.StopTimer()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			stop()
		})
	}
}

// wrapperVariants measure the wrapper alone, with tracing disabled and
// sampled.
var wrapperVariants = []benchVariant{
	{name: "plain"},
	{name: "pubsubtrace/disabled", wrap: true},
	{name: "pubsubtrace/sampled", wrap: true, sampled: true},
}

// BenchmarkPublishWrapper measures what Publisher adds to a Publish call, on
// a stopped publisher: the client answers at once with an error, so neither
// the network nor the client's batching is measured, only the span, the
// injection and ending the span.
func BenchmarkPublishWrapper(b *testing.B) {
	for _, v := range wrapperVariants {
		b.Run(v.name, func(b *testing.B) {
			tp := benchTracerProvider(b, v.sampled)
			useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
			f := newFake(b, nil)
			raw := f.client.Publisher(topicName)
			raw.Stop()
			publish := raw.Publish
			if v.wrap {
				pub := pubsubtrace.WrapPublisher(raw, benchOptions(tp)...)
				defer pub.Stop()
				publish = pub.Publish
			}
			ctx := context.Background()
			if v.sampled {
				var span trace.Span
				ctx, span = tp.Tracer("bench").Start(ctx, "request")
				defer span.End()
			}
			msg := &pubsub.Message{Data: []byte("benchmark payload"), Attributes: map[string]string{"k": "v"}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				publish(ctx, msg)
			}
		})
	}
}

// BenchmarkHandler measures what WrapHandler adds to a Receive callback,
// calling it directly with a message that carries a sampled traceparent.
func BenchmarkHandler(b *testing.B) {
	for _, v := range wrapperVariants {
		b.Run(v.name, func(b *testing.B) {
			tp := benchTracerProvider(b, v.sampled)
			useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
			f := newFake(b, nil)
			var n int
			h := func(context.Context, *pubsub.Message) { n++ }
			if v.wrap {
				h = pubsubtrace.WrapHandler(f.client.Subscriber(subName), h, benchOptions(tp)...)
			}
			msg := &pubsub.Message{ID: "m1", Data: []byte("benchmark payload"), Attributes: map[string]string{
				"k":           "v",
				"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			}}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				h(ctx, msg)
			}
			if n != b.N {
				b.Fatalf("handler ran %d times", n)
			}
		})
	}
}
