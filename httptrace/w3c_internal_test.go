package httptrace

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestNormalizeTraceState(t *testing.T) {
	many := func(n int) string {
		m := make([]string, n)
		for i := range m {
			m[i] = "k" + strings.Repeat("x", i) + "=1"
		}
		return strings.Join(m, ",")
	}
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{",,", ",,"},
		{"foo=1", "foo=1"},
		{"foo=1 \t, \tbar=2", "foo=1 \t, \tbar=2"},
		{"foo= 1", "foo= 1"},
		{"foo=1,foo=2", "foo=1"},
		{"foo=1, ", "foo=1"},
		{"foo=1,\t,bar=2", "foo=1,bar=2"},
		{"FOO=1,bar=2", "bar=2"},
		{"foo =1,bar=2", "bar=2"},
		{"foo=,bar=2", "bar=2"},
		{"foo=a=b,bar=2", "bar=2"},
		{"foo=a\x7f,bar=2", "bar=2"},
		{"@foo=1,bar=2", "bar=2"},
		{"foo@=1,bar=2", "bar=2"},
		{"foo@bar@baz=1,bar=2", "bar=2"},
		{"0foo=1,bar=2", "bar=2"},
		{"0foo@bar=1", "0foo@bar=1"},
		{"foo@0bar=1,bar=2", "bar=2"},
		{"t@" + strings.Repeat("v", 14) + "=1,bar=2", "t@" + strings.Repeat("v", 14) + "=1,bar=2"},
		{"t@" + strings.Repeat("v", 15) + "=1,bar=2", "bar=2"},
		{strings.Repeat("t", 241) + "@v=1", strings.Repeat("t", 241) + "@v=1"},
		{strings.Repeat("t", 242) + "@v=1,bar=2", "bar=2"},
		{"a" + strings.Repeat("z", 255) + "=1", "a" + strings.Repeat("z", 255) + "=1"},
		{"a" + strings.Repeat("z", 256) + "=1,bar=2", "bar=2"},
		{"foo=" + strings.Repeat("v", 256), "foo=" + strings.Repeat("v", 256)},
		{"foo=" + strings.Repeat("v", 257) + ",bar=2", "bar=2"},
		{many(32), many(32)},
		{many(32) + ",,", many(32) + ",,"},
		{many(33), many(32)},
		{"bad," + many(33), many(32)},
		{many(32) + ", ", many(32)},
	} {
		got := normalizeTraceState(c.in)
		if got != c.want {
			t.Errorf("normalizeTraceState(%q) = %q, want %q", c.in, got, c.want)
		}
		if _, err := trace.ParseTraceState(got); err != nil {
			t.Errorf("normalizeTraceState(%q) = %q, which OpenTelemetry rejects: %v", c.in, got, err)
		}
	}
}

func TestNormalizeTraceStateKeepsValidListWithoutAllocating(t *testing.T) {
	list := "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7, acme@vendor=x"
	if n := testing.AllocsPerRun(100, func() { _ = normalizeTraceState(list) }); n != 0 {
		t.Errorf("normalizeTraceState allocates %v times on a valid list", n)
	}
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {list}}
	carrier := propagation.HeaderCarrier(h)
	ctx := context.Background()
	plain := testing.AllocsPerRun(100, func() { _ = propagation.TraceContext{}.Extract(ctx, carrier) })
	ruled := testing.AllocsPerRun(100, func() { _ = w3cPropagator{propagation.TraceContext{}}.Extract(ctx, carrier) })
	if ruled > plain {
		t.Errorf("Extract with the header rules allocates %v times, %v without", ruled, plain)
	}
	if got := trace.SpanContextFromContext(w3cPropagator{propagation.TraceContext{}}.Extract(ctx, carrier)).TraceState().String(); got != "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,acme@vendor=x" {
		t.Errorf("tracestate = %q", got)
	}
}

// FuzzNormalizeTraceState checks the contract OpenTelemetry relies on:
// whatever comes in, the result parses, and a list it already accepted is
// passed on unchanged.
func FuzzNormalizeTraceState(f *testing.F) {
	for _, s := range []string{"", "foo=1,bar=2", "foo=1,foo=2", "a@b=1, ,c=2", "x=1,Y=2", strings.Repeat("k=v,", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := normalizeTraceState(s)
		if _, err := trace.ParseTraceState(got); err != nil {
			t.Fatalf("normalizeTraceState(%q) = %q, rejected: %v", s, got, err)
		}
		if _, err := trace.ParseTraceState(s); err == nil && got != s {
			t.Fatalf("normalizeTraceState(%q) = %q, want the accepted list unchanged", s, got)
		}
	})
}

func TestW3CHeaderOtherKeys(t *testing.T) {
	h := w3cHeader(http.Header{"Baggage": {"a=1", "b=2"}, "B3": {"x"}})
	if got := h.Get("b3"); got != "x" {
		t.Errorf("Get(b3) = %q", got)
	}
	if got := h.Values("baggage"); len(got) != 2 {
		t.Errorf("Values(baggage) = %q, want both lines", got)
	}
	h.Set("traceparent", "v")
	if got := http.Header(h).Values("Traceparent"); len(got) != 1 || got[0] != "v" {
		t.Errorf("after Set, traceparent lines = %q", got)
	}
}

func TestW3CInject(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	state, _ := trace.ParseTraceState("congo=1")
	withState := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceState: state}))
	withoutState := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	stale := func() http.Header {
		return http.Header{"Traceparent": {"a", "b"}, "Tracestate": {"stale=1", "old=2"}, "B3": {"x"}}
	}
	for _, c := range []struct {
		name          string
		prop          propagation.TextMapPropagator
		ctx           context.Context
		parent, state []string
	}{
		{"new context with tracestate", propagation.TraceContext{}, withState, []string{parent}, []string{"congo=1"}},
		{"new context without tracestate", propagation.TraceContext{}, withoutState, []string{parent}, nil},
		{"no span context", propagation.TraceContext{}, context.Background(), []string{"a", "b"}, []string{"stale=1", "old=2"}},
		{"no W3C propagator", propagation.Baggage{}, withoutState, []string{"a", "b"}, []string{"stale=1", "old=2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := stale()
			w3cPropagator{c.prop}.Inject(c.ctx, propagation.HeaderCarrier(h))
			if got := h.Values("traceparent"); strings.Join(got, "|") != strings.Join(c.parent, "|") {
				t.Errorf("traceparent lines = %q, want %q", got, c.parent)
			}
			if got := h.Values("tracestate"); strings.Join(got, "|") != strings.Join(c.state, "|") {
				t.Errorf("tracestate lines = %q, want %q", got, c.state)
			}
			if got := h.Get("b3"); got != "x" {
				t.Errorf("b3 = %q, want it untouched", got)
			}
		})
	}
	t.Run("other carrier", func(t *testing.T) {
		m := propagation.MapCarrier{"tracestate": "stale=1"}
		w3cPropagator{propagation.TraceContext{}}.Inject(withoutState, m)
		if m["traceparent"] != parent || m["tracestate"] != "stale=1" {
			t.Errorf("map carrier = %v, want only traceparent written", m)
		}
	})
}

// BenchmarkW3CExtract compares extraction from one header line of each
// field with and without the header rules.
func BenchmarkW3CExtract(b *testing.B) {
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		prop propagation.TextMapPropagator
	}{
		{"otel", propagation.TraceContext{}},
		{"w3c_rules", w3cPropagator{propagation.TraceContext{}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.prop.Extract(ctx, propagation.HeaderCarrier(h))
			}
		})
	}
	h["Tracestate"] = []string{"congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"}
	b.Run("w3c_rules_two_tracestate_lines", func(b *testing.B) {
		b.ReportAllocs()
		p := w3cPropagator{propagation.TraceContext{}}
		for b.Loop() {
			_ = p.Extract(ctx, propagation.HeaderCarrier(h))
		}
	})
}
