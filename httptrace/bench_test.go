package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
)

// The handler benchmarks call ServeHTTP directly (no network) so that the
// numbers show what the middleware adds to a request, not socket costs.
func benchServe(b *testing.B, h http.Handler, traceparent string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/42", nil)
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	benchServeRequest(b, h, req)
}

func benchServeRequest(b *testing.B, h http.Handler, req *http.Request) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func benchMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

func BenchmarkServer(b *testing.B) {
	const parent = "00-" + upstreamTraceID + "-" + upstreamSpanID + "-01"
	prop := asynctrace.WithPropagators(propagation.TraceContext{})
	// Metrics go to an SDK provider without a reader, as with an exporter
	// that is not yet collecting; spans to an SDK provider that samples all
	// and has no processor, so export costs stay out of the measurement.
	mp := asynctrace.WithMeterProvider(sdkmetric.NewMeterProvider())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	b.Run("bare", func(b *testing.B) {
		benchServe(b, benchMux(), parent)
	})
	b.Run("noop_provider", func(b *testing.B) {
		benchServe(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(noop.NewTracerProvider())), parent)
	})
	b.Run("otelhttp_only_sampled_with_parent", func(b *testing.B) {
		benchServe(b, otelhttp.NewHandler(benchMux(), "bench",
			otelhttp.WithPropagators(propagation.TraceContext{}),
			otelhttp.WithMeterProvider(sdkmetric.NewMeterProvider()),
			otelhttp.WithTracerProvider(tp)), parent)
	})
	b.Run("sampled_with_parent", func(b *testing.B) {
		benchServe(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(tp)), parent)
	})
	b.Run("sampled_with_parent_tracestate", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders/42", nil)
		req.Header.Set("traceparent", parent)
		req.Header.Set("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
		benchServeRequest(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(tp)), req)
	})
	b.Run("sampled_with_parent_tracestate_lines", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "/v1/orders/42", nil)
		req.Header.Set("traceparent", parent)
		req.Header.Add("tracestate", "congo=t61rcWkgMzE")
		req.Header.Add("tracestate", "rojo=00f067aa0ba902b7")
		benchServeRequest(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(tp)), req)
	})
	b.Run("sampled_root", func(b *testing.B) {
		benchServe(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(tp)), "")
	})
	healthz := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	b.Run("health_path_bare", func(b *testing.B) {
		benchServeRequest(b, benchMux(), healthz)
	})
	b.Run("health_path", func(b *testing.B) {
		benchServeRequest(b, httptrace.WrapHandler(benchMux(), prop, mp, asynctrace.WithTracerProvider(tp)), healthz)
	})
}

// The A/B pairs below are what internal/cmd/benchab runs interleaved and
// compares by CPU per request: httptrace (/lib) against otelhttp alone
// (/otelhttp) with the same propagator, tracer and meter providers, with
// and without httptrace's traceresponse header.
func abServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/42", nil)
	req.Header.Set("traceparent", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	m := benchcpu.Start(b)
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	m.Stop()
}

func abServer(b *testing.B, extra ...asynctrace.Option) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	mp := sdkmetric.NewMeterProvider()
	prop := propagation.TraceContext{}
	b.Run("lib", func(b *testing.B) {
		opts := append([]asynctrace.Option{asynctrace.WithPropagators(prop), asynctrace.WithMeterProvider(mp), asynctrace.WithTracerProvider(tp)}, extra...)
		abServe(b, httptrace.WrapHandler(benchMux(), opts...))
	})
	b.Run("otelhttp", func(b *testing.B) {
		abServe(b, otelhttp.NewHandler(benchMux(), "bench",
			otelhttp.WithPropagators(prop), otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tp)))
	})
}

func BenchmarkABServer(b *testing.B) { abServer(b) }

func BenchmarkABServerNoTraceResponse(b *testing.B) { abServer(b, httptrace.WithoutTraceResponse()) }
