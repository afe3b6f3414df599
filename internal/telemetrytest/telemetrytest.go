// Package telemetrytest is the one test harness of asynctrace's packages:
// an SDK tracer and meter provider that keep what they record in memory,
// the adapter options that point at them, and the lookups and assertions
// the adapters' tests share.
package telemetrytest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/tracecheck"
)

// WaitTimeout bounds every wait of this package; nothing a test waits for
// should come close to it.
const WaitTimeout = 20 * time.Second

// Service is the service.name of the spans a Telemetry records.
const Service = "test"

// W3C is the propagator [Telemetry.Options] passes.
var W3C = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Telemetry is an SDK tracer provider sampling every span and a meter
// provider with a manual reader, both shut down when the test ends.
type Telemetry struct {
	Recorder       *tracetest.SpanRecorder
	TracerProvider *sdktrace.TracerProvider
	Reader         *sdkmetric.ManualReader
	MeterProvider  *sdkmetric.MeterProvider
}

// New returns a Telemetry; opts are added to the tracer provider's (a
// sampler, say).
func New(tb testing.TB, opts ...sdktrace.TracerProviderOption) *Telemetry {
	tb.Helper()
	rec := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	tel := &Telemetry{
		Recorder: rec,
		TracerProvider: sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{
			sdktrace.WithSpanProcessor(rec),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", Service))),
		}, opts...)...),
		Reader:        reader,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
	}
	tb.Cleanup(func() {
		_ = tel.TracerProvider.Shutdown(context.Background())
		_ = tel.MeterProvider.Shutdown(context.Background())
	})
	return tel
}

// Options are the adapter options that record into tel with the W3C
// propagators, followed by extra.
func (tel *Telemetry) Options(extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{
		asynctrace.WithTracerProvider(tel.TracerProvider),
		asynctrace.WithMeterProvider(tel.MeterProvider),
		asynctrace.WithPropagators(W3C),
	}, extra...)
}

// Root starts a span the test plays the caller with.
func (tel *Telemetry) Root(ctx context.Context, name string) (context.Context, trace.Span) {
	return tel.TracerProvider.Tracer("test").Start(ctx, name)
}

// Ended returns the ended spans named name, in the order they ended.
func (tel *Telemetry) Ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.Recorder.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// One returns the one ended span named name, failing the test unless there
// is exactly one.
func (tel *Telemetry) One(tb testing.TB, name string) sdktrace.ReadOnlySpan {
	tb.Helper()
	spans := tel.Ended(name)
	if len(spans) != 1 {
		tb.Fatalf("got %d ended spans named %q, want 1 (all ended: %v)", len(spans), name, SpanNames(tel.Recorder.Ended()))
	}
	return spans[0]
}

// WaitEnded waits, at most [WaitTimeout], until n spans named name have
// ended, and returns them.
func (tel *Telemetry) WaitEnded(tb testing.TB, name string, n int) []sdktrace.ReadOnlySpan {
	tb.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		got := tel.Ended(name)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %d ended %q spans, have %d; all ended: %v", WaitTimeout, n, name, len(got), SpanNames(tel.Recorder.Ended()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CheckTrace fails the test unless the ended spans form the trees want
// describes: the parent chain, services, kinds, attributes and links, with
// the difference and the tree printed.
func (tel *Telemetry) CheckTrace(tb testing.TB, want tracecheck.Expectation) {
	tb.Helper()
	if err := tracecheck.Check(tracecheck.FromSDK(tel.Recorder.Ended()), want); err != nil {
		tb.Fatal(err)
	}
}

// CheckChain fails the test unless the ended spans hold the chain: each
// span named by chain (as "name" or "name/kind") the child of the one
// before, all in one trace whose root is the first, none with an error
// status. Other spans may hang off the chain.
func (tel *Telemetry) CheckChain(tb testing.TB, chain ...string) {
	tb.Helper()
	want := tracecheck.Expectation{AllowExtra: true}
	var parent tracecheck.SpanRef
	for _, link := range chain {
		name, kind := link, ""
		if i := strings.LastIndexByte(link, '/'); i >= 0 {
			switch k := link[i+1:]; k {
			case tracecheck.KindInternal, tracecheck.KindServer, tracecheck.KindClient, tracecheck.KindProducer, tracecheck.KindConsumer:
				name, kind = link[:i], k
			}
		}
		want.Spans = append(want.Spans, tracecheck.ExpectedSpan{Service: Service, Name: name, Kind: kind, Parent: parent})
		parent = tracecheck.SpanRef{Service: Service, Name: name}
	}
	tel.CheckTrace(tb, want)
}

// SpanNames lists the names and kinds of spans, for failure messages.
func SpanNames(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name() + "/" + s.SpanKind().String()
	}
	return out
}

// Attr returns the value of the attribute key of s.
func Attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// AttrString returns the attribute key of s as a string, "" when absent.
func AttrString(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	v, _ := Attr(s, key)
	return v.String()
}

// WantAttr reports an error unless s has the attribute key with the value
// want (compared as attribute.Value.AsInterface gives it: string, int64,
// bool, float64 or a slice of one).
func WantAttr(tb testing.TB, s sdktrace.ReadOnlySpan, key attribute.Key, want any) {
	tb.Helper()
	v, ok := Attr(s, key)
	if !ok {
		tb.Errorf("span %q has no %s (attributes %v)", s.Name(), key, s.Attributes())
		return
	}
	if got := v.AsInterface(); fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		tb.Errorf("span %q: %s = %v (%T), want %v (%T)", s.Name(), key, got, got, want, want)
	}
}

// NoAttr reports an error if s has the attribute key.
func NoAttr(tb testing.TB, s sdktrace.ReadOnlySpan, key attribute.Key) {
	tb.Helper()
	if v, ok := Attr(s, key); ok {
		tb.Errorf("span %q has %s = %v, want none", s.Name(), key, v.String())
	}
}

// HasLinkTo reports whether s links to the span sc.
func HasLinkTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.SpanID() == sc.SpanID() && l.SpanContext.TraceID() == sc.TraceID() {
			return true
		}
	}
	return false
}

// Metrics collects the current metrics by name.
func (tel *Telemetry) Metrics(tb testing.TB) map[string]metricdata.Metrics {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.Reader.Collect(context.Background(), &rm); err != nil {
		tb.Fatalf("collect metrics: %v", err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// CounterSum is the sum of the points of the int64 counter name whose
// attributes include all of match.
func (tel *Telemetry) CounterSum(tb testing.TB, name string, match ...attribute.KeyValue) int64 {
	tb.Helper()
	m, ok := tel.Metrics(tb)[name]
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		tb.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	var n int64
	for _, dp := range sum.DataPoints {
		if HasAll(dp.Attributes, match...) {
			n += dp.Value
		}
	}
	return n
}

// HistogramCount is the number of values recorded in the float64
// histogram name with attributes that include all of match.
func (tel *Telemetry) HistogramCount(tb testing.TB, name string, match ...attribute.KeyValue) uint64 {
	tb.Helper()
	m, ok := tel.Metrics(tb)[name]
	if !ok {
		return 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		tb.Fatalf("%s is %T, want a float64 histogram", name, m.Data)
	}
	var n uint64
	for _, dp := range h.DataPoints {
		if HasAll(dp.Attributes, match...) {
			n += dp.Count
		}
	}
	return n
}

// HasAll reports whether set holds every attribute of match.
func HasAll(set attribute.Set, match ...attribute.KeyValue) bool {
	for _, kv := range match {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// Recv receives from ch, failing the test after [WaitTimeout]; what names
// the value in the failure message.
func Recv[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(WaitTimeout):
		tb.Fatalf("timed out after %s waiting for %s", WaitTimeout, what)
		var zero T
		return zero
	}
}

// isolatedEnv names the test a child process runs; see Isolated.
const isolatedEnv = "ASYNCTRACE_ISOLATED_TEST"

// Isolated reports whether the calling test should run its body here. In
// the test process it runs the test again in a child process, fails if the
// child fails, and reports false; in that child it reports true. A test that
// installs an OpenTelemetry global propagator runs isolated because
// OpenTelemetry's default global delegates for good to the first
// propagator ever installed: restoring the old value would not make it a
// no-op again, and the tests that need the untouched default would prove
// nothing.
func Isolated(t *testing.T) bool {
	t.Helper()
	if os.Getenv(isolatedEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v")
	cmd.Env = append(os.Environ(), isolatedEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s in a child process: %v\n%s", t.Name(), err, out)
	}
	return false
}

// InstallGlobalPropagator installs p as the global propagator until the
// test ends; only for tests that run [Isolated].
func InstallGlobalPropagator(t *testing.T, p propagation.TextMapPropagator) {
	t.Helper()
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(p)
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
}

// RequireDefaultGlobalPropagator fails the test unless the global
// propagator is still OpenTelemetry's default, which propagates nothing:
// the tests of the W3C fallback prove nothing otherwise.
func RequireDefaultGlobalPropagator(tb testing.TB) {
	tb.Helper()
	if f := otel.GetTextMapPropagator().Fields(); len(f) != 0 {
		tb.Fatalf("a global propagator (fields %v) is installed; this test needs OpenTelemetry's default no-op", f)
	}
}

// WantPanic reports an error unless f panics with exactly want: the
// misuse policy's message, naming the function and the argument.
func WantPanic(tb testing.TB, want string, f func()) {
	tb.Helper()
	defer func() {
		tb.Helper()
		r := recover()
		if r == nil {
			tb.Errorf("no panic, want %q", want)
			return
		}
		if got := fmt.Sprint(r); got != want {
			tb.Errorf("panicked with %q, want %q", got, want)
		}
	}()
	f()
}
