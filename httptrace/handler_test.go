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
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

const (
	upstreamTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	upstreamSpanID  = "00f067aa0ba902b7"
)

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

func TestServerSpanContinuesIncomingTrace(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("hello"), tel.Options()...))

	status, body, _ := get(t, srv, "/work", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello", body)

	span := tel.One(t, "GET")
	assert.Equal(t, trace.SpanKindServer, span.SpanKind())
	assert.Equal(t, upstreamTraceID, span.SpanContext().TraceID().String())
	assert.Equal(t, upstreamSpanID, span.Parent().SpanID().String())
	assert.True(t, span.Parent().IsRemote(), "parent should be the remote caller")
}

func TestServerSpanIsRootWithoutTraceparent(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("hello"), tel.Options()...))

	status, _, _ := get(t, srv, "/work", "")
	assert.Equal(t, http.StatusOK, status)

	span := tel.One(t, "GET")
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
			tel := telemetrytest.New(t)
			srv := serve(t, httptrace.WrapHandler(okHandler("served"), tel.Options()...))

			status, body, hdr := get(t, srv, "/work", tp)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "served", body)

			span := tel.One(t, "GET")
			assert.False(t, span.Parent().IsValid(), "malformed header must not become a parent")
			assert.NotEqual(t, upstreamTraceID, span.SpanContext().TraceID().String())
			assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().TraceID().String())
		})
	}
}

func TestHealthPathsAreServedWithoutSpans(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options()...))

	for _, p := range httptrace.DefaultHealthPaths() {
		status, body, hdr := get(t, srv, p, "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
		assert.Equal(t, http.StatusOK, status, p)
		assert.Equal(t, "ok", body, p)
		assert.Empty(t, hdr.Get("traceresponse"), p)
	}
	assert.Empty(t, tel.Recorder.Ended(), "health paths must not create spans")

	// A near miss is traced: matching is exact.
	get(t, srv, "/healthz/deep", "")
	assert.Len(t, tel.Recorder.Ended(), 1)
}

func TestWithHealthPathsReplacesDefaults(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(httptrace.WithHealthPaths("/ping"))...))

	status, _, _ := get(t, srv, "/ping", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, tel.Recorder.Ended(), "/ping is a health path")

	get(t, srv, "/healthz", "")
	span := tel.One(t, "GET")
	assert.Equal(t, "/healthz", urlPath(span))
}

func TestWithFilterSkipsRejectedRequests(t *testing.T) {
	tel := telemetrytest.New(t)
	skipInternal := func(r *http.Request) bool { return !strings.HasPrefix(r.URL.Path, "/internal/") }
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(httptrace.WithFilter(skipInternal))...))

	status, _, hdr := get(t, srv, "/internal/x", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, hdr.Get("traceresponse"))
	assert.Empty(t, tel.Recorder.Ended())

	get(t, srv, "/public", "")
	assert.Len(t, tel.Recorder.Ended(), 1)
}

func urlPath(span sdktrace.ReadOnlySpan) string {
	v, _ := telemetrytest.Attr(span, "url.path")
	return v.AsString()
}

func TestTraceResponseHeaderMatchesServerSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	var seenInHandler string
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// The header must already be there when the handler starts.
		seenInHandler = w.Header().Get("traceresponse")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	srv := serve(t, httptrace.WrapHandler(h, tel.Options()...))

	status, _, hdr := get(t, srv, "/orders", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	assert.Equal(t, http.StatusCreated, status)

	span := tel.One(t, "GET")
	sc := span.SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	assert.Equal(t, want, hdr.Get("traceresponse"))
	assert.Equal(t, want, seenInHandler)
	assert.Equal(t, upstreamTraceID, sc.TraceID().String())
	assert.NotEqual(t, upstreamSpanID, sc.SpanID().String(), "header names the server span, not the caller's")
}

func TestTraceResponseRespectsUnsampledParent(t *testing.T) {
	tel := telemetrytest.New(t, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options()...))

	_, _, hdr := get(t, srv, "/work", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-00")
	assert.Empty(t, tel.Recorder.Ended(), "unsampled parent must not be sampled here")

	parts := strings.Split(hdr.Get("traceresponse"), "-")
	require.Len(t, parts, 4, "header %q", hdr.Get("traceresponse"))
	assert.Equal(t, "00", parts[0])
	assert.Equal(t, upstreamTraceID, parts[1])
	assert.Len(t, parts[2], 16)
	assert.NotEqual(t, upstreamSpanID, parts[2])
	assert.Equal(t, "00", parts[3], "sampled flag must be off")
}

func TestWithoutTraceResponse(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(httptrace.WithoutTraceResponse())...))

	_, _, hdr := get(t, srv, "/work", "")
	assert.Len(t, tel.Recorder.Ended(), 1, "the span is still created")
	_, present := hdr["Traceresponse"]
	assert.False(t, present, "traceresponse header must be absent")
}

func TestNoTraceResponseWithoutValidSpan(t *testing.T) {
	// The no-op provider yields invalid span contexts for a root request.
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"),
		asynctrace.WithTracerProvider(noop.NewTracerProvider()),
		asynctrace.WithPropagators(propagation.TraceContext{})))

	status, _, hdr := get(t, srv, "/work", "")
	assert.Equal(t, http.StatusOK, status)
	_, present := hdr["Traceresponse"]
	assert.False(t, present)
}

func TestServeMuxPatternNamesSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("id"))
	})
	srv := serve(t, httptrace.WrapHandler(mux, tel.Options()...))

	status, body, _ := get(t, srv, "/v1/orders/42", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "42", body)

	span := tel.One(t, "GET /v1/orders/{id}")
	route, ok := telemetrytest.Attr(span, "http.route")
	assert.True(t, ok, "http.route set")
	assert.Equal(t, "/v1/orders/{id}", route.AsString())
}

func TestUnmatchedRouteKeepsMethodName(t *testing.T) {
	tel := telemetrytest.New(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(http.ResponseWriter, *http.Request) {})
	srv := serve(t, httptrace.WrapHandler(mux, tel.Options()...))

	status, _, _ := get(t, srv, "/nowhere", "")
	assert.Equal(t, http.StatusNotFound, status)

	span := tel.One(t, "GET")
	_, ok := telemetrytest.Attr(span, "http.route")
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
	tel := telemetrytest.New(t)
	mw := httptrace.NewMiddleware(tel.Options(httptrace.WithRouteFunc(routeFromState))...)
	srv := serve(t, fakeRouter(mw, "/users/{name}"))

	status, body, _ := get(t, srv, "/users/ada", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "routed", body)

	span := tel.One(t, "GET /users/{name}")
	route, ok := telemetrytest.Attr(span, "http.route")
	assert.True(t, ok)
	assert.Equal(t, "/users/{name}", route.AsString())

	// The route also labels the request-duration metric.
	assert.EqualValues(t, 1, tel.HistogramCount(t, "http.server.request.duration", attribute.String("http.route", "/users/{name}")),
		"http.server.request.duration should carry http.route")
}

func TestWithRouteFuncIgnoresNonRoutes(t *testing.T) {
	for _, route := range []string{"", "users"} {
		tel := telemetrytest.New(t)
		mw := httptrace.NewMiddleware(tel.Options(httptrace.WithRouteFunc(routeFromState))...)
		srv := serve(t, fakeRouter(mw, route))

		status, _, _ := get(t, srv, "/users/ada", "")
		assert.Equal(t, http.StatusOK, status)
		span := tel.One(t, "GET")
		_, ok := telemetrytest.Attr(span, "http.route")
		assert.False(t, ok, "route %q", route)
	}
}

func TestNonStandardMethodName(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options()...))

	req, err := http.NewRequest("BREW", srv.URL+"/pot", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()

	tel.One(t, "HTTP")
}

func TestServerErrorStatusIsRecorded(t *testing.T) {
	tel := telemetrytest.New(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := serve(t, httptrace.WrapHandler(h, tel.Options()...))

	status, _, hdr := get(t, srv, "/fail", "")
	assert.Equal(t, http.StatusInternalServerError, status)
	span := tel.One(t, "GET")
	assert.Equal(t, "Error", span.Status().Code.String())
	assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().SpanID().String())
}

// Echo and Gin match the route before their middleware runs; their adapters
// hand it over in r.Pattern.
func TestPatternSetBeforeMiddleware(t *testing.T) {
	tel := telemetrytest.New(t)
	mw := httptrace.NewMiddleware(tel.Options()...)
	inner := mw(okHandler("ok"))
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "/items/{id}"
		inner.ServeHTTP(w, r)
	}))

	get(t, srv, "/items/9", "")
	span := tel.One(t, "GET /items/{id}")
	n := 0
	for _, kv := range span.Attributes() {
		if kv.Key == "http.route" {
			n++
			assert.Equal(t, "/items/{id}", kv.Value.AsString())
		}
	}
	assert.Equal(t, 1, n, "http.route appears exactly once")
}
