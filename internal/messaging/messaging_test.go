package messaging_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

type harness struct {
	rec    *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	in     *messaging.Instrumenter
}

func newHarness(t *testing.T, opts ...asynctrace.Option) *harness {
	t.Helper()
	h := &harness{rec: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.rec))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	base := []asynctrace.Option{asynctrace.WithTracerProvider(h.tp), asynctrace.WithMeterProvider(mp), asynctrace.WithPropagators(w3c)}
	h.in = newInstrumenter(messaging.Spec{Scope: "example.com/adapter", System: "pulsar"}, append(base, opts...)...)
	return h
}

func (h *harness) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range h.rec.Ended() {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no ended span %q among %d", name, len(h.rec.Ended()))
	return nil
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// roundTrip sends one message and processes it, returning the context the
// handler saw.
func roundTrip(t *testing.T, h *harness, ctx context.Context, consumerCtx context.Context) context.Context {
	t.Helper()
	d := h.in.Destination("orders", "", "")
	_, send, props := h.in.StartSend(ctx, d, map[string]string{"user": "kept"}, 11)
	send.End("msg-1", nil)

	cd := h.in.Destination("orders", "billing", "")
	hctx, proc := h.in.StartProcess(consumerCtx, cd, props, "msg-1", 11)
	proc.End(messaging.SettleAck, nil)
	return hctx
}

func TestSendAndProcessFormOneTrace(t *testing.T) {
	h := newHarness(t)
	root, rootSpan := h.tp.Tracer("test").Start(context.Background(), "http request")
	root = baggage.ContextWithBaggage(root, mustBaggage(t, "tenant=acme"))
	hctx := roundTrip(t, h, root, context.Background())
	rootSpan.End()

	send, proc := h.span(t, "send orders"), h.span(t, "process orders")
	assert.Equal(t, trace.SpanKindProducer, send.SpanKind())
	assert.Equal(t, trace.SpanKindConsumer, proc.SpanKind())
	assert.Equal(t, rootSpan.SpanContext().SpanID(), send.Parent().SpanID())
	assert.Equal(t, send.SpanContext().TraceID(), proc.SpanContext().TraceID())
	assert.Equal(t, send.SpanContext().SpanID(), proc.Parent().SpanID(), "process is the child of send")
	assert.True(t, proc.Parent().IsRemote())
	assert.Empty(t, proc.Links())
	assert.Equal(t, "acme", baggage.FromContext(hctx).Member("tenant").Value(), "baggage reaches the handler")
	assert.Equal(t, proc.SpanContext(), trace.SpanContextFromContext(hctx), "handler ctx carries the process span")

	sa := attrs(send)
	assert.Equal(t, "pulsar", sa["messaging.system"].AsString())
	assert.Equal(t, "send", sa["messaging.operation.type"].AsString())
	assert.Equal(t, "send", sa["messaging.operation.name"].AsString())
	assert.Equal(t, "orders", sa["messaging.destination.name"].AsString())
	assert.Equal(t, "msg-1", sa["messaging.message.id"].AsString())
	_, hasSize := sa["messaging.message.body.size"]
	assert.False(t, hasSize, "body size is opt-in")

	pa := attrs(proc)
	assert.Equal(t, "process", pa["messaging.operation.type"].AsString())
	assert.Equal(t, "billing", pa["messaging.destination.subscription.name"].AsString())
	assert.Equal(t, "msg-1", pa["messaging.message.id"].AsString())
	assert.Equal(t, "ack", pa[messaging.SettlementKey].AsString())
	assert.Equal(t, codes.Unset, proc.Status().Code)
	assert.Equal(t, "example.com/adapter", proc.InstrumentationScope().Name)
	assert.Equal(t, messaging.Version, proc.InstrumentationScope().Version)
}

func mustBaggage(t *testing.T, s string) baggage.Baggage {
	t.Helper()
	b, err := baggage.Parse(s)
	require.NoError(t, err)
	return b
}

func TestSendDoesNotWriteCallerProperties(t *testing.T) {
	h := newHarness(t)
	ctx, span := h.tp.Tracer("t").Start(context.Background(), "parent")
	defer span.End()
	props := map[string]string{"a": "1"}
	_, send, out := h.in.StartSend(ctx, h.in.Destination("t", "", ""), props, 0)
	send.End("", nil)
	assert.Equal(t, map[string]string{"a": "1"}, props)
	assert.Contains(t, out, "traceparent")
	assert.Equal(t, "1", out["a"])
}

func TestAmbientConsumerSpanBecomesLink(t *testing.T) {
	h := newHarness(t)
	_, prodSpan := h.tp.Tracer("t").Start(context.Background(), "producer side")
	consumerCtx, loop := h.tp.Tracer("t").Start(context.Background(), "receive loop")
	roundTrip(t, h, trace.ContextWithSpan(context.Background(), prodSpan), consumerCtx)
	loop.End()
	prodSpan.End()

	send, proc := h.span(t, "send orders"), h.span(t, "process orders")
	assert.Equal(t, send.SpanContext().SpanID(), proc.Parent().SpanID())
	require.Len(t, proc.Links(), 1)
	assert.Equal(t, loop.SpanContext().SpanID(), proc.Links()[0].SpanContext.SpanID())
}

func TestLinkToProducerStartsNewRoot(t *testing.T) {
	h := newHarness(t, asynctrace.WithLinkToProducer())
	roundTrip(t, h, context.Background(), context.Background())

	send, proc := h.span(t, "send orders"), h.span(t, "process orders")
	assert.False(t, proc.Parent().IsValid(), "a new root")
	assert.NotEqual(t, send.SpanContext().TraceID(), proc.SpanContext().TraceID())
	require.Len(t, proc.Links(), 1)
	assert.Equal(t, send.SpanContext().SpanID(), proc.Links()[0].SpanContext.SpanID())
}

func TestLinkToProducerUnderAmbientSpan(t *testing.T) {
	h := newHarness(t, asynctrace.WithLinkToProducer())
	consumerCtx, loop := h.tp.Tracer("t").Start(context.Background(), "batch")
	roundTrip(t, h, context.Background(), consumerCtx)
	loop.End()

	send, proc := h.span(t, "send orders"), h.span(t, "process orders")
	assert.Equal(t, loop.SpanContext().SpanID(), proc.Parent().SpanID())
	require.Len(t, proc.Links(), 1)
	assert.Equal(t, send.SpanContext().SpanID(), proc.Links()[0].SpanContext.SpanID())
}

func TestMessageWithoutContextGetsNewRoot(t *testing.T) {
	h := newHarness(t)
	for name, props := range map[string]map[string]string{
		"nil":       nil,
		"foreign":   {"k": "v"},
		"malformed": {"traceparent": "00-zzzz-01", "baggage": "%%%"},
	} {
		t.Run(name, func(t *testing.T) {
			h.rec.Reset()
			ctx, proc := h.in.StartProcess(context.Background(), h.in.Destination("orders", "s", ""), props, "", 0)
			proc.End(messaging.SettleAck, nil)
			s := h.span(t, "process orders")
			assert.False(t, s.Parent().IsValid())
			assert.True(t, s.SpanContext().IsValid())
			assert.Equal(t, s.SpanContext(), trace.SpanContextFromContext(ctx))
		})
	}
}

func TestUnsampledUpstreamIsRespected(t *testing.T) {
	h := newHarness(t)
	props := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}
	ctx, proc := h.in.StartProcess(context.Background(), h.in.Destination("o", "", ""), props, "", 0)
	proc.End(messaging.SettleAck, nil)
	assert.Empty(t, h.rec.Ended(), "parent-based default sampler drops the span")
	sc := trace.SpanContextFromContext(ctx)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID().String(), "the trace id still flows on")
	assert.False(t, sc.IsSampled())

	sendCtx, send, out := h.in.StartSend(ctx, h.in.Destination("next", "", ""), nil, 0)
	send.End("", nil)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-"+trace.SpanContextFromContext(sendCtx).SpanID().String()+"-00", out["traceparent"],
		"the unsampled flag is passed on, never forced")
}

type brokerError struct{}

func (brokerError) Error() string     { return "producer queue full" }
func (brokerError) ErrorType() string { return "ProducerQueueIsFull" }

func TestErrorsAreRecorded(t *testing.T) {
	h := newHarness(t)
	_, send, _ := h.in.StartSend(context.Background(), h.in.Destination("o", "", ""), nil, 0)
	send.End("", brokerError{})
	_, proc := h.in.StartProcess(context.Background(), h.in.Destination("o", "s", ""), nil, "id", 0)
	proc.End(messaging.SettleNack, errors.New("handler failed"))

	s := h.span(t, "send o")
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, "producer queue full", s.Status().Description)
	assert.Equal(t, "ProducerQueueIsFull", attrs(s)["error.type"].AsString())
	require.Len(t, s.Events(), 1)
	assert.Equal(t, "exception", s.Events()[0].Name)

	p := h.span(t, "process o")
	assert.Equal(t, codes.Error, p.Status().Code)
	assert.Equal(t, "*errors.errorString", attrs(p)["error.type"].AsString())
	assert.Equal(t, "nack", attrs(p)[messaging.SettlementKey].AsString())
}

func TestOptionsReachSpans(t *testing.T) {
	h := newHarness(t,
		asynctrace.WithMessagingSystem("rabbitmq"),
		asynctrace.WithServerAddress("broker.internal", 6650),
		asynctrace.WithSpanAttributes(attribute.String("team", "payments")),
		asynctrace.WithMessageBodySize(),
	)
	roundTrip(t, h, context.Background(), context.Background())
	for _, name := range []string{"send orders", "process orders"} {
		a := attrs(h.span(t, name))
		assert.Equal(t, "rabbitmq", a["messaging.system"].AsString(), name)
		assert.Equal(t, "broker.internal", a["server.address"].AsString(), name)
		assert.Equal(t, int64(6650), a["server.port"].AsInt64(), name)
		assert.Equal(t, "payments", a["team"].AsString(), name)
		assert.Equal(t, int64(11), a["messaging.message.body.size"].AsInt64(), name)
	}
	assert.Equal(t, "rabbitmq", h.in.System())
}

func TestFallbackPrefixOption(t *testing.T) {
	h := newHarness(t, asynctrace.WithFallbackKeyPrefixes())
	props := map[string]string{"googclient_traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	ctx := h.in.Extract(context.Background(), props)
	assert.False(t, trace.SpanContextFromContext(ctx).IsValid(), "fallback turned off")

	// Only the Pub/Sub client writes the prefixed keys: they are read by
	// default for Pub/Sub, and not for the other brokers.
	h = newHarness(t)
	ctx = h.in.Extract(context.Background(), props)
	assert.False(t, trace.SpanContextFromContext(ctx).IsValid(), "googclient_ read by default for pulsar")
	h = newHarness(t, asynctrace.WithMessagingSystem("gcp_pubsub"))
	ctx = h.in.Extract(context.Background(), props)
	assert.True(t, trace.SpanContextFromContext(ctx).IsValid(), "googclient_ not read by default for gcp_pubsub")
	h = newHarness(t, asynctrace.WithFallbackKeyPrefixes("googclient_"))
	ctx = h.in.Extract(context.Background(), props)
	assert.True(t, trace.SpanContextFromContext(ctx).IsValid(), "googclient_ not read when asked for")
}

func TestZeroValuesAreInert(t *testing.T) {
	var s messaging.Send
	var p messaging.Process
	s.End("x", errors.New("e"))
	p.End(messaging.SettleAck, nil)
	assert.False(t, s.Span().IsRecording())
	assert.False(t, p.Span().IsRecording())
	assert.NotNil(t, p.Context())
}

func TestDestinationsAreCached(t *testing.T) {
	h := newHarness(t)
	assert.Same(t, h.in.Destination("a", "s", ""), h.in.Destination("a", "s", ""))
	assert.NotSame(t, h.in.Destination("a", "s", ""), h.in.Destination("a", "", ""))
	assert.Equal(t, "a", h.in.Destination("a", "", "").Name())
}

func TestSettlementNames(t *testing.T) {
	assert.Equal(t, "reconsume_later", messaging.SettleReconsumeLater.String())
	assert.Equal(t, "abandoned", messaging.SettleAbandoned.String())
	assert.Equal(t, "unknown", messaging.Settlement(200).String())
}

func TestSpanWithoutDestinationName(t *testing.T) {
	h := newHarness(t)
	_, s, _ := h.in.StartSend(context.Background(), h.in.Destination("", "", ""), nil, 0)
	s.End("", nil)
	h.span(t, "send")
}

func TestInjectExtractHelpers(t *testing.T) {
	h := newHarness(t)
	ctx, span := h.tp.Tracer("t").Start(context.Background(), "p")
	span.End()
	props := map[string]string{"x": "y"}
	out := h.in.Inject(ctx, props)
	assert.Equal(t, map[string]string{"x": "y"}, props)
	assert.Equal(t, span.SpanContext().TraceID(), trace.SpanContextFromContext(h.in.Extract(context.Background(), out)).TraceID())
	assert.True(t, maps.Equal(props, map[string]string{"x": "y"}))
}

// metricsByName collects the exported metrics into name -> data points.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	pd := h.in.Destination("orders", "", "")
	for range 3 {
		_, s, _ := h.in.StartSend(context.Background(), pd, nil, 0)
		s.End("id", nil)
	}
	_, s, _ := h.in.StartSend(context.Background(), pd, nil, 0)
	s.End("", brokerError{})

	cd := h.in.Destination("orders", "billing", "")
	for i := range 2 {
		_, p := h.in.StartProcess(context.Background(), cd, nil, "id", 0)
		var err error
		if i == 1 {
			err = brokerError{}
		}
		p.End(messaging.SettleAck, err)
	}
	h.in.RecordReceive(context.Background(), cd, time.Now().Add(-30*time.Millisecond), nil)
	h.in.RecordSettle(context.Background(), cd, messaging.SettleAck, time.Now(), nil)

	got := collect(t, h.reader)

	sent := got["messaging.client.sent.messages"].(metricdata.Sum[int64])
	counts := map[string]int64{}
	for _, dp := range sent.DataPoints {
		et, _ := dp.Attributes.Value("error.type")
		dest, _ := dp.Attributes.Value("messaging.destination.name")
		assert.Equal(t, "orders", dest.AsString())
		counts[et.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{"": 3, "ProducerQueueIsFull": 1}, counts)

	consumed := got["messaging.client.consumed.messages"].(metricdata.Sum[int64])
	require.Len(t, consumed.DataPoints, 1)
	assert.Equal(t, int64(2), consumed.DataPoints[0].Value)
	sub, _ := consumed.DataPoints[0].Attributes.Value("messaging.destination.subscription.name")
	assert.Equal(t, "billing", sub.AsString())

	process := got["messaging.process.duration"].(metricdata.Histogram[float64])
	var total uint64
	for _, dp := range process.DataPoints {
		total += dp.Count
		assert.Equal(t, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, dp.Bounds)
	}
	assert.Equal(t, uint64(2), total)

	ops := got["messaging.client.operation.duration"].(metricdata.Histogram[float64])
	byType := map[string]uint64{}
	for _, dp := range ops.DataPoints {
		typ, _ := dp.Attributes.Value("messaging.operation.type")
		byType[typ.AsString()] += dp.Count
		if typ.AsString() == "receive" {
			assert.GreaterOrEqual(t, dp.Sum, 0.03, "receive duration measured from its start")
		}
		if typ.AsString() == "settle" {
			name, _ := dp.Attributes.Value("messaging.operation.name")
			assert.Equal(t, "ack", name.AsString())
		}
	}
	assert.Equal(t, map[string]uint64{"send": 4, "receive": 1, "settle": 1}, byType)
}

func TestGlobalProviderIsResolvedPerMessage(t *testing.T) {
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	// Created before the service installs its provider, as adapters often are.
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"})
	d := in.Destination("orders", "", "")

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(w3c)

	_, send, props := in.StartSend(context.Background(), d, nil, 0)
	send.End("", nil)
	require.Len(t, rec.Ended(), 1)
	assert.Equal(t, rec.Ended()[0].SpanContext().TraceID().String(), props["traceparent"][3:35])

	otel.SetTracerProvider(tracenoop.NewTracerProvider())
	_, send, _ = in.StartSend(context.Background(), d, nil, 0)
	send.End("", nil)
	assert.Len(t, rec.Ended(), 1, "no span once the no-op provider is installed")
}

func TestNoopProviderStillPropagates(t *testing.T) {
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"},
		asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()), asynctrace.WithPropagators(w3c))
	upstream := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "baggage": "tenant=acme"}

	ctx, proc := in.StartProcess(context.Background(), in.Destination("in", "sub", ""), upstream, "id", 0)
	assert.False(t, proc.Span().IsRecording())
	proc.End(messaging.SettleAck, nil)

	_, send, out := in.StartSend(ctx, in.Destination("out", "", ""), map[string]string{"k": "v"}, 0)
	assert.False(t, send.Span().IsRecording())
	send.End("", nil)
	assert.Equal(t, upstream["traceparent"], out["traceparent"], "the context passes through a service with tracing off")
	assert.Equal(t, "tenant=acme", out["baggage"])
	assert.Equal(t, "v", out["k"])
}

func TestSendObserved(t *testing.T) {
	var zero messaging.Send
	assert.False(t, zero.Observed())

	off := newInstrumenter(messaging.Spec{Scope: "s"},
		asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()), asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()))
	_, s, _ := off.StartSend(context.Background(), off.Destination("d", "", ""), nil, 0)
	assert.False(t, s.Observed(), "nothing records with both providers off")

	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	metricsOnly := newInstrumenter(messaging.Spec{Scope: "s"},
		asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()), asynctrace.WithMeterProvider(mp))
	_, s, _ = metricsOnly.StartSend(context.Background(), metricsOnly.Destination("d", "", ""), nil, 0)
	assert.True(t, s.Observed(), "the send metrics still want End")

	h := newHarness(t)
	_, s, _ = h.in.StartSend(context.Background(), h.in.Destination("d", "", ""), nil, 0)
	assert.True(t, s.Observed())
	s.End("", nil)
}

func TestDestinationsConcurrentAndUnbounded(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1200 {
				name := fmt.Sprintf("topic-%d", (i*7+g)%5000)
				if d := h.in.Destination(name, "", ""); d.Name() != name {
					t.Errorf("destination %q for %q", d.Name(), name)
					return
				}
			}
		})
	}
	wg.Wait()
	// Past the cache bound destinations are still right, only not shared.
	for i := range 5000 {
		name := fmt.Sprintf("many-%d", i)
		require.Equal(t, name, h.in.Destination(name, "", "").Name())
	}
	_, s, _ := h.in.StartSend(context.Background(), h.in.Destination("many-4999", "", ""), nil, 0)
	s.End("", nil)
	h.span(t, "send many-4999")
}

// valueProvider is a provider of a comparable type whose values need not be
// comparable: == panics on two of them holding the same slice type.
type valueProvider struct {
	trace.TracerProvider
	extra any
}

func TestGlobalProviderOfUncomparableValue(t *testing.T) {
	prevTP := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP) })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	otel.SetTracerProvider(valueProvider{TracerProvider: tp, extra: []string{"x"}})

	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"})
	d := in.Destination("orders", "", "")
	for range 2 {
		_, send, _ := in.StartSend(context.Background(), d, nil, 0)
		send.End("", nil)
	}
	assert.Len(t, rec.Ended(), 2)
}

// newInstrumenter resolves opts the way an adapter does and builds the
// instrumenter of spec.
func newInstrumenter(spec messaging.Spec, opts ...asynctrace.Option) *messaging.Instrumenter {
	return messaging.New(spec, config.Resolve("test", "test", opts, &struct{}{}))
}

// A meter provider installed while a message is processed records no
// duration for it: its start was not timed. Counters still count.
func TestProviderInstalledMidOperationRecordsNoBogusDuration(t *testing.T) {
	if !telemetrytest.Isolated(t) { // it installs the global meter provider
		return
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	in := newInstrumenter(messaging.Spec{Scope: "s", System: "pulsar"})
	_, proc := in.StartProcess(context.Background(), in.Destination("orders", "sub", ""), nil, "", 0)
	_, send, _ := in.StartSend(context.Background(), in.Destination("orders", "", ""), nil, 0)
	otel.SetMeterProvider(mp)
	proc.End(messaging.SettleAck, nil)
	send.End("1", nil)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	sent := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					assert.Less(t, dp.Sum, 60.0, "%s recorded %v s for an operation of microseconds", m.Name, dp.Sum)
				}
			case metricdata.Sum[int64]:
				sent = sent || m.Name == "messaging.client.sent.messages"
			}
		}
	}
	assert.True(t, sent, "the sent counter still counts")
}
