package pubsubtrace_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
	"github.com/asynctrace/asynctrace/internal/messaging"
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

// The A/B groups below are what internal/cmd/benchab runs interleaved and
// compares by CPU per message: pubsubtrace (/lib) against the same tracing
// written by hand with the same SDK (/hand) and against the client's
// built-in tracing (/builtin), all sampling every span and exporting none.

const abTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

var abW3C = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// abHand is publish and process tracing written without the library; its
// span names, kinds and start attributes are the library's, recorded once.
type abHand struct {
	tracer          trace.Tracer
	send, process   benchcpu.Span
	sendOpts, pOpts []trace.SpanStartOption
}

func newABHand(b *testing.B, tp trace.TracerProvider) *abHand {
	spans := benchcpu.Record(2, func(rtp trace.TracerProvider) {
		f := newFake(b, nil)
		pub := pubsubtrace.WrapPublisher(f.client.Publisher(topicName), benchOptions(rtp)...)
		if _, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background()); err != nil {
			b.Fatal(err)
		}
		pub.Stop()
		h := pubsubtrace.WrapHandler(f.client.Subscriber(subName), func(context.Context, *pubsub.Message) {}, benchOptions(rtp)...)
		h(context.Background(), &pubsub.Message{ID: "m1", Data: []byte("x"), Attributes: map[string]string{"traceparent": abTraceparent}})
	})
	if len(spans) != 2 {
		b.Fatalf("the library recorded %d spans, want 2", len(spans))
	}
	id := semconv.MessagingMessageIDKey
	return &abHand{
		tracer: tp.Tracer("pubsub"), send: spans[0], process: spans[1],
		sendOpts: spans[0].Options(id), pOpts: spans[1].Options(id, messaging.SettlementKey),
	}
}

// publish traces one Publish call, ending the span with the message id
// once the result is ready, without blocking the caller.
func (h *abHand) publish(pub *pubsub.Publisher) func(context.Context, *pubsub.Message) *pubsub.PublishResult {
	return func(ctx context.Context, msg *pubsub.Message) *pubsub.PublishResult {
		ctx, span := h.tracer.Start(ctx, h.send.Name, h.sendOpts...)
		attrs := make(map[string]string, len(msg.Attributes)+2)
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		abW3C.Inject(ctx, propagation.MapCarrier(attrs))
		cp := *msg
		cp.Attributes = attrs
		res := pub.Publish(ctx, &cp)
		go func() {
			<-res.Ready()
			id, err := res.Get(context.Background())
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			} else {
				span.SetAttributes(semconv.MessagingMessageID(id))
			}
			span.End()
		}()
		return res
	}
}

// handler traces a Receive callback.
func (h *abHand) handler(next func(context.Context, *pubsub.Message)) func(context.Context, *pubsub.Message) {
	return func(ctx context.Context, m *pubsub.Message) {
		ctx = abW3C.Extract(ctx, propagation.MapCarrier(m.Attributes))
		ctx, span := h.tracer.Start(ctx, h.process.Name, h.pOpts...)
		span.SetAttributes(semconv.MessagingMessageID(m.ID))
		next(ctx, m)
		span.SetAttributes(messaging.SettlementKey.String("none"))
		span.End()
	}
}

// abEndToEnd publishes b.N messages through pstest and receives them all.
func abEndToEnd(b *testing.B, kind string) {
	tp := benchTracerProvider(b, true)
	var cfg *pubsub.ClientConfig
	if kind == "builtin" {
		useGlobalTracerProvider(b, tp)
		cfg = &pubsub.ClientConfig{EnableOpenTelemetryTracing: true}
	} else {
		useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
	}
	var hand *abHand
	if kind == "hand" {
		hand = newABHand(b, tp)
	}
	f := newFake(b, cfg)
	raw := f.client.Publisher(topicName)
	publish, stop := raw.Publish, raw.Stop
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
	sub.ReceiveSettings.NumGoroutines = 32
	switch kind {
	case "lib":
		pub := pubsubtrace.WrapPublisher(raw, benchOptions(tp)...)
		publish, stop = pub.Publish, pub.Stop
		handler = pubsubtrace.WrapHandler(sub, handler, benchOptions(tp)...)
	case "hand":
		publish = hand.publish(raw)
		handler = hand.handler(handler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	receiveDone := make(chan error, 1)
	go func() { receiveDone <- sub.Receive(ctx, handler) }()
	parentCtx, span := tp.Tracer("bench").Start(context.Background(), "request")
	defer span.End()
	data := []byte("benchmark payload")
	results := make([]*pubsub.PublishResult, 0, b.N)
	b.ResetTimer()
	m := benchcpu.Start(b)
	for range b.N {
		results = append(results, publish(parentCtx, &pubsub.Message{Data: data, Attributes: map[string]string{"k": "v"}}))
	}
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d", received.Load(), b.N)
	}
	m.Stop()
	b.StopTimer()
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
}

func BenchmarkABPubSub(b *testing.B) {
	for _, kind := range []string{"lib", "hand", "builtin"} {
		b.Run(kind, func(b *testing.B) { abEndToEnd(b, kind) })
	}
}

// abPublishHeld publishes into a client that holds every message, so that
// only the publish call and its tracing are measured.
func abPublishHeld(b *testing.B, kind string, sampled bool) {
	tp := benchTracerProvider(b, sampled)
	useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
	var hand *abHand
	if kind == "hand" {
		hand = newABHand(b, tp)
	}
	f := newFake(b, nil)
	raw := f.client.Publisher(topicName)
	raw.PublishSettings.DelayThreshold = time.Hour
	raw.PublishSettings.CountThreshold = pubsub.MaxPublishRequestCount
	raw.PublishSettings.ByteThreshold = 1 << 30
	publish, stop := raw.Publish, raw.Stop
	switch kind {
	case "lib":
		pub := pubsubtrace.WrapPublisher(raw, benchOptions(tp)...)
		publish, stop = pub.Publish, pub.Stop
	case "hand":
		publish = hand.publish(raw)
	}
	ctx := context.Background()
	if sampled {
		var span trace.Span
		ctx, span = tp.Tracer("bench").Start(ctx, "request")
		defer span.End()
	}
	msgs := make([]pubsub.Message, b.N)
	data := []byte("benchmark payload")
	attrs := map[string]string{"k": "v"}
	b.ResetTimer()
	m := benchcpu.Start(b)
	for i := range b.N {
		msgs[i] = pubsub.Message{Data: data, Attributes: attrs}
		publish(ctx, &msgs[i])
	}
	m.Stop()
	b.StopTimer()
	stop()
}

func BenchmarkABPubSubPublish(b *testing.B) {
	b.Run("lib", func(b *testing.B) { abPublishHeld(b, "lib", true) })
	b.Run("hand", func(b *testing.B) { abPublishHeld(b, "hand", true) })
}

func BenchmarkABPubSubPublishDisabled(b *testing.B) {
	b.Run("lib", func(b *testing.B) { abPublishHeld(b, "lib", false) })
	b.Run("plain", func(b *testing.B) { abPublishHeld(b, "plain", false) })
}

func BenchmarkABPubSubHandler(b *testing.B) {
	tp := benchTracerProvider(b, true)
	useGlobalTracerProvider(b, tracenoop.NewTracerProvider())
	msg := &pubsub.Message{ID: "m1", Data: []byte("benchmark payload"), Attributes: map[string]string{"k": "v", "traceparent": abTraceparent}}
	next := func(context.Context, *pubsub.Message) {}
	loop := func(b *testing.B, h func(context.Context, *pubsub.Message)) {
		ctx := context.Background()
		m := benchcpu.Start(b)
		for b.Loop() {
			h(ctx, msg)
		}
		m.Stop()
	}
	b.Run("lib", func(b *testing.B) {
		f := newFake(b, nil)
		loop(b, pubsubtrace.WrapHandler(f.client.Subscriber(subName), next, benchOptions(tp)...))
	})
	b.Run("hand", func(b *testing.B) { loop(b, newABHand(b, tp).handler(next)) })
}
