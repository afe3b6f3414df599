package carrier_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/carrier"
)

var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

const (
	traceIDHex = "4bf92f3577b34da6a3ce929d0e0e4736"
	spanIDHex  = "00f067aa0ba902b7"
	parentHdr  = "00-" + traceIDHex + "-" + spanIDHex + "-01"
)

func sampledContext(t testing.TB) context.Context {
	t.Helper()
	tid, err := trace.TraceIDFromHex(traceIDHex)
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex(spanIDHex)
	require.NoError(t, err)
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func withBaggage(t testing.TB, ctx context.Context, members ...string) context.Context {
	t.Helper()
	b, err := baggage.Parse(strings.Join(members, ","))
	require.NoError(t, err)
	return baggage.ContextWithBaggage(ctx, b)
}

func TestInjectCopiesAndLeavesCallerMapAlone(t *testing.T) {
	props := map[string]string{"order": "42"}
	before := maps.Clone(props)

	out := carrier.Injector{Propagator: w3c}.Inject(withBaggage(t, sampledContext(t), "tenant=acme"), props)

	assert.Equal(t, before, props, "the caller's map must not be written")
	assert.Equal(t, "42", out["order"])
	assert.Equal(t, parentHdr, out["traceparent"])
	assert.Equal(t, "tenant=acme", out["baggage"])
}

func TestInjectIntoNilMapYieldsNewMap(t *testing.T) {
	out := carrier.Injector{Propagator: w3c}.Inject(sampledContext(t), nil)
	require.NotNil(t, out)
	assert.Equal(t, parentHdr, out["traceparent"])
}

func TestInjectWithNothingToInjectReturnsInput(t *testing.T) {
	props := map[string]string{"k": "v"}
	out := carrier.Injector{Propagator: w3c}.Inject(context.Background(), props)
	props["probe"] = "same map"
	assert.Equal(t, "same map", out["probe"], "no copy is made when nothing is injected")
	assert.Nil(t, carrier.Injector{Propagator: w3c}.Inject(context.Background(), nil))
}

func TestInjectUsesGlobalPropagatorByDefault(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(w3c)
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	out := carrier.Inject(sampledContext(t), nil)
	assert.Equal(t, parentHdr, out["traceparent"])
	assert.Equal(t, trace.SpanContextFromContext(sampledContext(t)).TraceID(),
		trace.SpanContextFromContext(carrier.Extract(context.Background(), out)).TraceID())
}

func TestInjectReplacesStaleTraceState(t *testing.T) {
	props := map[string]string{"traceparent": "00-11111111111111111111111111111111-2222222222222222-01", "tracestate": "old=1"}
	out := carrier.Injector{Propagator: w3c}.Inject(sampledContext(t), props)
	assert.Equal(t, parentHdr, out["traceparent"])
	_, has := out["tracestate"]
	assert.False(t, has, "the tracestate of the message's former trace must not travel with the new traceparent")
	assert.Equal(t, "old=1", props["tracestate"], "caller's map untouched")
}

func TestInjectConcurrentSendsShareOneMap(t *testing.T) {
	shared := map[string]string{"static": "header"}
	ctx := sampledContext(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				out := carrier.Injector{Propagator: w3c}.Inject(ctx, shared)
				if out["traceparent"] != parentHdr || out["static"] != "header" {
					t.Error("unexpected injection result")
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, map[string]string{"static": "header"}, shared)
}

type handlerFunc func(error)

func (f handlerFunc) Handle(err error) { f(err) }

func captureOtelErrors(t *testing.T) *[]error {
	t.Helper()
	var mu sync.Mutex
	var got []error
	otel.SetErrorHandler(handlerFunc(func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }))
	t.Cleanup(func() { otel.SetErrorHandler(handlerFunc(func(error) {})) })
	return &got
}

func TestInjectLimitsDropOversizeBaggage(t *testing.T) {
	errs := captureOtelErrors(t)
	big := "big=" + strings.Repeat("x", 2000)
	out := carrier.Injector{Propagator: w3c, Limits: carrier.PubSubLimits}.Inject(withBaggage(t, sampledContext(t), big), map[string]string{"a": "b"})

	assert.Equal(t, parentHdr, out["traceparent"], "trace context still travels")
	_, has := out["baggage"]
	assert.False(t, has, "a value over 1024 bytes is left out")
	require.Len(t, *errs, 1)
	var le *carrier.LimitError
	require.True(t, errors.As((*errs)[0], &le))
	assert.Equal(t, "baggage", le.Key)
	assert.Contains(t, le.Error(), "limit 1024")
}

func TestInjectLimitsAttributeCount(t *testing.T) {
	captureOtelErrors(t)
	props := make(map[string]string, 99)
	for i := range 99 {
		props[strings.Repeat("k", i+1)] = "v"
	}
	out := carrier.Injector{Propagator: w3c, Limits: carrier.PubSubLimits}.Inject(withBaggage(t, sampledContext(t), "a=b"), props)
	assert.Len(t, out, 100, "traceparent fits as the 100th attribute, baggage does not")
	assert.Equal(t, parentHdr, out["traceparent"])
	_, has := out["baggage"]
	assert.False(t, has)
	assert.Len(t, props, 99)
}

func TestInjectLimitsKeyLength(t *testing.T) {
	captureOtelErrors(t)
	out := carrier.Injector{Propagator: w3c, Limits: carrier.Limits{MaxKeyBytes: 5}}.Inject(sampledContext(t), nil)
	assert.Empty(t, out, "traceparent (11 bytes) exceeds a 5-byte key limit")
}

func TestExtractContinuesTrace(t *testing.T) {
	props := map[string]string{"traceparent": parentHdr, "tracestate": "vendor=1", "baggage": "tenant=acme"}
	ctx := carrier.Extractor{Propagator: w3c}.Extract(context.Background(), props)
	sc := trace.SpanContextFromContext(ctx)
	assert.True(t, sc.IsValid())
	assert.True(t, sc.IsRemote())
	assert.True(t, sc.IsSampled())
	assert.Equal(t, traceIDHex, sc.TraceID().String())
	assert.Equal(t, "vendor=1", sc.TraceState().String())
	assert.Equal(t, "acme", baggage.FromContext(ctx).Member("tenant").Value())
}

func TestExtractRespectsUnsampledFlag(t *testing.T) {
	props := map[string]string{"traceparent": "00-" + traceIDHex + "-" + spanIDHex + "-00"}
	sc := trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c}.Extract(context.Background(), props))
	assert.True(t, sc.IsValid())
	assert.False(t, sc.IsSampled())
}

func TestExtractFromNilIsNoop(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, ctx, carrier.Extractor{Propagator: w3c}.Extract(ctx, nil))
}

func TestExtractFallsBackToGoogleClientKeys(t *testing.T) {
	props := map[string]string{
		"googclient_traceparent": parentHdr,
		"googclient_tracestate":  "g=1",
	}
	sc := trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c}.Extract(context.Background(), props))
	assert.Equal(t, traceIDHex, sc.TraceID().String())
	assert.Equal(t, "g=1", sc.TraceState().String())
}

func TestExtractPrefersPlainKeysAndNeverMixes(t *testing.T) {
	other := "00-11111111111111111111111111111111-2222222222222222-01"
	props := map[string]string{
		"traceparent":            parentHdr,
		"googclient_traceparent": other,
		"googclient_tracestate":  "belongs=other",
	}
	sc := trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c}.Extract(context.Background(), props))
	assert.Equal(t, traceIDHex, sc.TraceID().String())
	assert.Empty(t, sc.TraceState().String(), "the other producer's tracestate is not attached to the plain traceparent")
}

func TestExtractCustomAndDisabledPrefixes(t *testing.T) {
	props := map[string]string{"x-traceparent": parentHdr}
	sc := trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c, FallbackPrefixes: []string{"y-", "x-"}}.Extract(context.Background(), props))
	assert.Equal(t, traceIDHex, sc.TraceID().String())

	google := map[string]string{"googclient_traceparent": parentHdr}
	sc = trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c, FallbackPrefixes: []string{}}.Extract(context.Background(), google))
	assert.False(t, sc.IsValid(), "an empty prefix list turns the fallback off")
}

func TestExtractTreatsMalformedAsAbsent(t *testing.T) {
	for name, value := range map[string]string{
		"garbage":        "not a traceparent",
		"zero trace id":  "00-00000000000000000000000000000000-" + spanIDHex + "-01",
		"zero span id":   "00-" + traceIDHex + "-0000000000000000-01",
		"bad version":    "ff-" + traceIDHex + "-" + spanIDHex + "-01",
		"short":          "00-" + traceIDHex[:10] + "-" + spanIDHex + "-01",
		"oversized":      parentHdr + strings.Repeat(" ", carrier.DefaultMaxValueBytes),
		"non-hex":        "00-" + strings.Repeat("z", 32) + "-" + spanIDHex + "-01",
		"uppercase hex":  "00-" + strings.ToUpper(traceIDHex) + "-" + spanIDHex + "-01",
		"empty":          "",
		"unicode":        "00-☃☃☃-01",
		"separator only": "---",
	} {
		t.Run(name, func(t *testing.T) {
			ctx := carrier.Extractor{Propagator: w3c}.Extract(context.Background(), map[string]string{"traceparent": value, "baggage": "%%%"})
			assert.False(t, trace.SpanContextFromContext(ctx).IsValid())
			assert.Zero(t, baggage.FromContext(ctx).Len())
		})
	}
}

func TestExtractDropsOversizedValuesOnly(t *testing.T) {
	props := map[string]string{"traceparent": parentHdr, "baggage": "a=" + strings.Repeat("b", 100)}
	ctx := carrier.Extractor{Propagator: w3c, MaxValueBytes: 64}.Extract(context.Background(), props)
	assert.True(t, trace.SpanContextFromContext(ctx).IsValid())
	assert.Zero(t, baggage.FromContext(ctx).Len(), "baggage over the limit is treated as absent")
}

func TestExtractNeverWritesTheMessage(t *testing.T) {
	props := map[string]string{"traceparent": parentHdr}
	writer := writingPropagator{}
	carrier.Extractor{Propagator: writer}.Extract(context.Background(), props)
	carrier.Extractor{Propagator: writer, FallbackPrefixes: []string{"p_"}}.Extract(context.Background(), props)
	assert.Equal(t, map[string]string{"traceparent": parentHdr}, props)
}

// writingPropagator tries to write while extracting, as a buggy propagator
// might.
type writingPropagator struct{}

func (writingPropagator) Inject(context.Context, propagation.TextMapCarrier) {}
func (writingPropagator) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	c.Set("injected", "by extract")
	return ctx
}
func (writingPropagator) Fields() []string { return nil }

func TestKeysShowFallbackView(t *testing.T) {
	var seen []string
	keysProp := keysPropagator{seen: &seen}
	carrier.Extractor{Propagator: keysProp}.Extract(context.Background(), map[string]string{"googclient_traceparent": parentHdr, "x": "y"})
	assert.ElementsMatch(t, []string{"googclient_traceparent", "x", "traceparent"}, seen)
}

type keysPropagator struct{ seen *[]string }

func (keysPropagator) Inject(context.Context, propagation.TextMapCarrier) {}
func (p keysPropagator) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	*p.seen = c.Keys()
	return ctx
}
func (keysPropagator) Fields() []string { return nil }

func TestMapCarrier(t *testing.T) {
	m := carrier.Map{}
	w3c.Inject(sampledContext(t), m)
	assert.Equal(t, parentHdr, m.Get("traceparent"))
	assert.Equal(t, []string{"traceparent"}, m.Keys())
	var nilMap carrier.Map
	nilMap.Set("k", "v") // must not panic
	assert.Empty(t, nilMap.Get("k"))
}

func TestInjectWithKeyPrefix(t *testing.T) {
	props := map[string]string{"traceparent": "kept", "googclient_tracestate": "stale=1"}
	out := carrier.Injector{Propagator: propagation.TraceContext{}, KeyPrefix: carrier.GoogleClientPrefix}.Inject(sampledContext(t), props)
	assert.Equal(t, parentHdr, out["googclient_traceparent"])
	assert.Equal(t, "kept", out["traceparent"], "unprefixed keys are left alone")
	_, stale := out["googclient_tracestate"]
	assert.False(t, stale, "the stale prefixed tracestate goes with a new prefixed traceparent")
	assert.Equal(t, "stale=1", props["googclient_tracestate"], "caller's map untouched")

	// What a prefixed injector writes, the default extractor reads back.
	sc := trace.SpanContextFromContext(carrier.Extractor{Propagator: w3c}.Extract(context.Background(),
		carrier.Injector{Propagator: w3c, KeyPrefix: carrier.GoogleClientPrefix}.Inject(sampledContext(t), nil)))
	assert.Equal(t, traceIDHex, sc.TraceID().String())
}
