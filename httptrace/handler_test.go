package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace/httptrace"
)

const (
	upstreamTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	upstreamSpanID  = "00f067aa0ba902b7"
)

type fixture struct {
	rec *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
}

// newFixture returns a recording provider; sampler nil means ParentBased(AlwaysOn).
func newFixture(t *testing.T, sampler sdktrace.Sampler) *fixture {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(rec)}
	if sampler != nil {
		opts = append(opts, sdktrace.WithSampler(sampler))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &fixture{rec: rec, tp: tp}
}

func (f *fixture) options(extra ...httptrace.Option) []httptrace.Option {
	return append([]httptrace.Option{
		httptrace.WithTracerProvider(f.tp),
		httptrace.WithMeterProvider(sdkmetric.NewMeterProvider()),
		httptrace.WithPropagators(propagation.TraceContext{}),
	}, extra...)
}

// serve starts a real server around h and returns it; it is closed at cleanup.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// get performs a GET with optional traceparent and returns status, body and headers.
func get(t *testing.T, srv *httptest.Server, path, traceparent string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func okHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body)
	})
}

// onlySpan returns the single ended span, failing if there is not exactly one.
func onlySpan(t *testing.T, rec *tracetest.SpanRecorder) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := rec.Ended()
	require.Len(t, spans, 1, "ended spans")
	return spans[0]
}

func attrValue(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestServerSpanContinuesIncomingTrace(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("hello"), f.options()...))

	status, body, _ := get(t, srv, "/work", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello", body)

	span := onlySpan(t, f.rec)
	assert.Equal(t, trace.SpanKindServer, span.SpanKind())
	assert.Equal(t, upstreamTraceID, span.SpanContext().TraceID().String())
	assert.Equal(t, upstreamSpanID, span.Parent().SpanID().String())
	assert.True(t, span.Parent().IsRemote(), "parent should be the remote caller")
	assert.Equal(t, "GET", span.Name())
}

func TestServerSpanIsRootWithoutTraceparent(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("hello"), f.options()...))

	status, _, _ := get(t, srv, "/work", "")
	assert.Equal(t, http.StatusOK, status)

	span := onlySpan(t, f.rec)
	assert.False(t, span.Parent().IsValid(), "span should have no parent")
	assert.True(t, span.SpanContext().IsValid())
}

func TestMalformedTraceparentStartsNewRootAndServes(t *testing.T) {
	bad := []string{
		"garbage",
		"00-" + upstreamTraceID + "-" + upstreamSpanID,                  // missing flags
		"00-00000000000000000000000000000000-" + upstreamSpanID + "-01", // zero trace id
		"00-" + upstreamTraceID + "-0000000000000000-01",                // zero span id
		"ff-" + upstreamTraceID + "-" + upstreamSpanID + "-01",          // forbidden version
		"00-" + strings.ToUpper(upstreamTraceID) + "-" + upstreamSpanID + "-01",
		"00-" + upstreamTraceID + "-" + upstreamSpanID + "-01-" + strings.Repeat("x", 4096),
	}
	for _, tp := range bad {
		t.Run(tp[:min(len(tp), 20)], func(t *testing.T) {
			f := newFixture(t, nil)
			srv := serve(t, httptrace.Handler(okHandler("served"), f.options()...))

			status, body, hdr := get(t, srv, "/work", tp)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "served", body)

			span := onlySpan(t, f.rec)
			assert.False(t, span.Parent().IsValid(), "malformed header must not become a parent")
			assert.NotEqual(t, upstreamTraceID, span.SpanContext().TraceID().String())
			assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().TraceID().String())
		})
	}
}

func TestHealthPathsAreServedWithoutSpans(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options()...))

	for _, p := range httptrace.DefaultHealthPaths() {
		status, body, hdr := get(t, srv, p, "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
		assert.Equal(t, http.StatusOK, status, p)
		assert.Equal(t, "ok", body, p)
		assert.Empty(t, hdr.Get("traceresponse"), p)
	}
	assert.Empty(t, f.rec.Ended(), "health paths must not create spans")

	// A near miss is traced: matching is exact.
	get(t, srv, "/healthz/deep", "")
	assert.Len(t, f.rec.Ended(), 1)
}

func TestWithHealthPathsReplacesDefaults(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options(httptrace.WithHealthPaths("/ping"))...))

	status, _, _ := get(t, srv, "/ping", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, f.rec.Ended(), "/ping is a health path")

	get(t, srv, "/healthz", "")
	span := onlySpan(t, f.rec)
	assert.Equal(t, "/healthz", urlPath(span))
}

func TestWithFilterSkipsRejectedRequests(t *testing.T) {
	f := newFixture(t, nil)
	skipInternal := func(r *http.Request) bool { return !strings.HasPrefix(r.URL.Path, "/internal/") }
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options(httptrace.WithFilter(skipInternal))...))

	status, _, hdr := get(t, srv, "/internal/x", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, hdr.Get("traceresponse"))
	assert.Empty(t, f.rec.Ended())

	get(t, srv, "/public", "")
	assert.Len(t, f.rec.Ended(), 1)
}

func urlPath(span sdktrace.ReadOnlySpan) string {
	v, _ := attrValue(span.Attributes(), "url.path")
	return v.AsString()
}

func TestTraceResponseHeaderMatchesServerSpan(t *testing.T) {
	f := newFixture(t, nil)
	var seenInHandler string
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// The header must already be there when the handler starts.
		seenInHandler = w.Header().Get("traceresponse")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	srv := serve(t, httptrace.Handler(h, f.options()...))

	status, _, hdr := get(t, srv, "/orders", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	assert.Equal(t, http.StatusCreated, status)

	span := onlySpan(t, f.rec)
	sc := span.SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	assert.Equal(t, want, hdr.Get("traceresponse"))
	assert.Equal(t, want, seenInHandler)
	assert.Equal(t, upstreamTraceID, sc.TraceID().String())
	assert.NotEqual(t, upstreamSpanID, sc.SpanID().String(), "header names the server span, not the caller's")
}

func TestTraceResponseRespectsUnsampledParent(t *testing.T) {
	f := newFixture(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options()...))

	_, _, hdr := get(t, srv, "/work", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-00")
	assert.Empty(t, f.rec.Ended(), "unsampled parent must not be sampled here")

	parts := strings.Split(hdr.Get("traceresponse"), "-")
	require.Len(t, parts, 4, "header %q", hdr.Get("traceresponse"))
	assert.Equal(t, "00", parts[0])
	assert.Equal(t, upstreamTraceID, parts[1])
	assert.Len(t, parts[2], 16)
	assert.NotEqual(t, upstreamSpanID, parts[2])
	assert.Equal(t, "00", parts[3], "sampled flag must be off")
}

func TestWithoutTraceResponse(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options(httptrace.WithoutTraceResponse())...))

	_, _, hdr := get(t, srv, "/work", "")
	assert.Len(t, f.rec.Ended(), 1, "the span is still created")
	_, present := hdr["Traceresponse"]
	assert.False(t, present, "traceresponse header must be absent")
}

func TestNoTraceResponseWithoutValidSpan(t *testing.T) {
	// The no-op provider yields invalid span contexts for a root request.
	srv := serve(t, httptrace.Handler(okHandler("ok"),
		httptrace.WithTracerProvider(noop.NewTracerProvider()),
		httptrace.WithPropagators(propagation.TraceContext{})))

	status, _, hdr := get(t, srv, "/work", "")
	assert.Equal(t, http.StatusOK, status)
	_, present := hdr["Traceresponse"]
	assert.False(t, present)
}

func TestServeMuxPatternNamesSpan(t *testing.T) {
	f := newFixture(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("id"))
	})
	srv := serve(t, httptrace.Handler(mux, f.options()...))

	status, body, _ := get(t, srv, "/v1/orders/42", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "42", body)

	span := onlySpan(t, f.rec)
	assert.Equal(t, "GET /v1/orders/{id}", span.Name())
	route, ok := attrValue(span.Attributes(), "http.route")
	assert.True(t, ok, "http.route set")
	assert.Equal(t, "/v1/orders/{id}", route.AsString())
}

func TestUnmatchedRouteKeepsMethodName(t *testing.T) {
	f := newFixture(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(http.ResponseWriter, *http.Request) {})
	srv := serve(t, httptrace.Handler(mux, f.options()...))

	status, _, _ := get(t, srv, "/nowhere", "")
	assert.Equal(t, http.StatusNotFound, status)

	span := onlySpan(t, f.rec)
	assert.Equal(t, "GET", span.Name())
	_, ok := attrValue(span.Attributes(), "http.route")
	assert.False(t, ok, "no http.route for an unmatched request")
}

// routeKey and fakeRouter mimic routers such as chi that keep a mutable
// routing state in the request context and fill it in while dispatching.
type routeKey struct{}

type routeState struct{ pattern string }

func fakeRouter(mw func(http.Handler) http.Handler, pattern string) http.Handler {
	inner := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Value(routeKey{}).(*routeState).pattern = pattern
		_, _ = io.WriteString(w, "routed")
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, &routeState{})))
	})
}

func routeFromState(r *http.Request) string {
	if st, ok := r.Context().Value(routeKey{}).(*routeState); ok {
		return st.pattern
	}
	return ""
}

func TestWithRouteFuncRenamesSpan(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	f := newFixture(t, nil)
	mw := httptrace.Middleware(f.options(
		httptrace.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		httptrace.WithRouteFunc(routeFromState))...)
	srv := serve(t, fakeRouter(mw, "/users/{name}"))

	status, body, _ := get(t, srv, "/users/ada", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "routed", body)

	span := onlySpan(t, f.rec)
	assert.Equal(t, "GET /users/{name}", span.Name())
	route, ok := attrValue(span.Attributes(), "http.route")
	assert.True(t, ok)
	assert.Equal(t, "/users/{name}", route.AsString())

	// The route also labels the request-duration metric.
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok)
			for _, dp := range hist.DataPoints {
				v, ok := dp.Attributes.Value("http.route")
				found = found || (ok && v.AsString() == "/users/{name}")
			}
		}
	}
	assert.True(t, found, "http.server.request.duration should carry http.route")
}

func TestWithRouteFuncIgnoresNonRoutes(t *testing.T) {
	for _, route := range []string{"", "users"} {
		f := newFixture(t, nil)
		mw := httptrace.Middleware(f.options(httptrace.WithRouteFunc(routeFromState))...)
		srv := serve(t, fakeRouter(mw, route))

		status, _, _ := get(t, srv, "/users/ada", "")
		assert.Equal(t, http.StatusOK, status)
		span := onlySpan(t, f.rec)
		assert.Equal(t, "GET", span.Name(), "route %q", route)
		_, ok := attrValue(span.Attributes(), "http.route")
		assert.False(t, ok, "route %q", route)
	}
}

func TestNonStandardMethodName(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options()...))

	req, err := http.NewRequest("BREW", srv.URL+"/pot", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()

	assert.Equal(t, "HTTP", onlySpan(t, f.rec).Name())
}

func TestServerErrorStatusIsRecorded(t *testing.T) {
	f := newFixture(t, nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := serve(t, httptrace.Handler(h, f.options()...))

	status, _, hdr := get(t, srv, "/fail", "")
	assert.Equal(t, http.StatusInternalServerError, status)
	span := onlySpan(t, f.rec)
	assert.Equal(t, "Error", span.Status().Code.String())
	assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().SpanID().String())
}

func TestNilOptionIsIgnored(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), append(f.options(), nil)...))
	status, _, _ := get(t, srv, "/x", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, f.rec.Ended(), 1)
}

// Echo and Gin match the route before their middleware runs; their adapters
// hand it over in r.Pattern.
func TestPatternSetBeforeMiddleware(t *testing.T) {
	f := newFixture(t, nil)
	mw := httptrace.Middleware(f.options()...)
	inner := mw(okHandler("ok"))
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "/items/{id}"
		inner.ServeHTTP(w, r)
	}))

	get(t, srv, "/items/9", "")
	span := onlySpan(t, f.rec)
	assert.Equal(t, "GET /items/{id}", span.Name())
	n := 0
	for _, kv := range span.Attributes() {
		if kv.Key == "http.route" {
			n++
			assert.Equal(t, "/items/{id}", kv.Value.AsString())
		}
	}
	assert.Equal(t, 1, n, "http.route appears exactly once")
}
