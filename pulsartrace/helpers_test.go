package pulsartrace

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
)

// telemetry is an SDK tracer and meter provider that keep what they record
// in memory for a test to inspect.
type telemetry struct {
	rec    *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	opts   []asynctrace.Option
}

var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

func newTelemetry(t testing.TB, extra ...asynctrace.Option) *telemetry {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	opts := append([]asynctrace.Option{
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMeterProvider(mp),
		asynctrace.WithPropagators(w3c),
	}, extra...)
	return &telemetry{rec: rec, tp: tp, reader: reader, opts: opts}
}

// root starts a span the test plays the caller's with.
func (tel *telemetry) root(ctx context.Context, name string) (context.Context, trace.Span) {
	return tel.tp.Tracer("test").Start(ctx, name)
}

// ended returns the ended spans named name.
func (tel *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func (tel *telemetry) one(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tel.ended(name)
	if len(spans) != 1 {
		t.Fatalf("got %d ended spans named %q, want 1 (all ended: %v)", len(spans), name, spanNames(tel.rec.Ended()))
	}
	return spans[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t testing.TB, s sdktrace.ReadOnlySpan, key attribute.Key, want any) {
	t.Helper()
	v, ok := attr(s, key)
	if !ok {
		t.Errorf("span %q has no %s (attributes %v)", s.Name(), key, s.Attributes())
		return
	}
	if got := v.AsInterface(); got != want {
		t.Errorf("span %q: %s = %v (%T), want %v (%T)", s.Name(), key, got, got, want, want)
	}
}

func noAttr(t testing.TB, s sdktrace.ReadOnlySpan, key attribute.Key) {
	t.Helper()
	if v, ok := attr(s, key); ok {
		t.Errorf("span %q has %s = %v, want none", s.Name(), key, v.String())
	}
}

// metrics collects the current metrics.
func (tel *telemetry) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// counterSum is the sum of the points of counter name whose attributes
// include all of match.
func (tel *telemetry) counterSum(t testing.TB, name string, match ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := tel.metrics(t)[name]
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	var n int64
	for _, dp := range sum.DataPoints {
		if hasAll(dp.Attributes, match) {
			n += dp.Value
		}
	}
	return n
}

// histogramCount is the number of values recorded in histogram name with
// attributes that include all of match.
func (tel *telemetry) histogramCount(t testing.TB, name string, match ...attribute.KeyValue) uint64 {
	t.Helper()
	m, ok := tel.metrics(t)[name]
	if !ok {
		return 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is %T, want a float64 histogram", name, m.Data)
	}
	var n uint64
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, match) {
			n += dp.Count
		}
	}
	return n
}

func hasAll(set attribute.Set, match []attribute.KeyValue) bool {
	for _, kv := range match {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}
