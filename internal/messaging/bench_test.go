package messaging_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// The benchmarks compare the core with the same work written by hand the way
// services do it without a library: a map carrier, the propagator's Inject or
// Extract, tracer.Start with the messaging attributes, and End.
//
//   - disabled: a no-op tracer provider (what OTEL_SDK_DISABLED installs),
//     W3C propagators still installed, no meter provider.
//   - sampled: the SDK with AlwaysSample and no exporter, so spans are
//     recorded and then dropped.

type benchMode struct {
	name string
	tp   trace.TracerProvider
	mp   metric.MeterProvider
}

func benchModes(b *testing.B) []benchMode {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return []benchMode{
		{"disabled", tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()},
		{"sampled", tp, metricnoop.NewMeterProvider()},
		{"sampled+metrics", tp, mp},
	}
}

var (
	benchPayloadSize = 256
	benchMessageID   = "CAEQAhgAIAA="
)

var propsSink map[string]string

func newProps() map[string]string { return map[string]string{"order-id": "42"} }

func BenchmarkSend(b *testing.B) {
	// The application's own work, with no tracing: building the properties
	// and handing them to the client (the sink stands for the client).
	b.Run("untraced", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			propsSink = newProps()
		}
	})
	for _, m := range benchModes(b) {
		b.Run(m.name+"/asynctrace", func(b *testing.B) {
			in := newInstrumenter(messaging.Spec{Scope: "bench", System: "pulsar"},
				asynctrace.WithTracerProvider(m.tp), asynctrace.WithMeterProvider(m.mp), asynctrace.WithPropagators(w3c))
			d := in.Destination("orders", "", "")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, send, props := in.StartSend(ctx, d, newProps(), benchPayloadSize)
				send.End(benchMessageID, nil)
				_ = props
			}
		})
		b.Run(m.name+"/by-hand", func(b *testing.B) {
			tracer := m.tp.Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				props := newProps()
				sctx, span := tracer.Start(ctx, "send orders",
					trace.WithSpanKind(trace.SpanKindProducer),
					trace.WithAttributes(
						semconv.MessagingSystemPulsar,
						semconv.MessagingOperationTypeSend,
						semconv.MessagingOperationName("send"),
						semconv.MessagingDestinationName("orders"),
					))
				w3c.Inject(sctx, propagation.MapCarrier(props))
				span.SetAttributes(semconv.MessagingMessageID(benchMessageID))
				span.End()
			}
		})
	}
}

func BenchmarkProcess(b *testing.B) {
	props := map[string]string{
		"order-id":    "42",
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	for _, m := range benchModes(b) {
		b.Run(m.name+"/asynctrace", func(b *testing.B) {
			in := newInstrumenter(messaging.Spec{Scope: "bench", System: "pulsar"},
				asynctrace.WithTracerProvider(m.tp), asynctrace.WithMeterProvider(m.mp), asynctrace.WithPropagators(w3c))
			d := in.Destination("orders", "billing", "")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, proc := in.StartProcess(ctx, d, props, benchMessageID, benchPayloadSize)
				proc.End(messaging.SettleAck, nil)
			}
		})
		b.Run(m.name+"/by-hand", func(b *testing.B) {
			tracer := m.tp.Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				pctx := w3c.Extract(ctx, propagation.MapCarrier(props))
				_, span := tracer.Start(pctx, "process orders",
					trace.WithSpanKind(trace.SpanKindConsumer),
					trace.WithAttributes(
						semconv.MessagingSystemPulsar,
						semconv.MessagingOperationTypeProcess,
						semconv.MessagingOperationName("process"),
						semconv.MessagingDestinationName("orders"),
						semconv.MessagingDestinationSubscriptionName("billing"),
					))
				span.SetAttributes(semconv.MessagingMessageID(benchMessageID))
				span.End()
			}
		})
	}
}
