package httptrace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestOTelHTTPOptionsPassThrough(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(httptrace.WithOTelHTTPOptions(
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return op + " " + r.URL.Path }),
	))...))

	_, _, hdr := get(t, srv, "/public", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")

	span := tel.One(t, "http.server /public")
	// A public endpoint starts a new trace and links the caller's span.
	assert.False(t, span.Parent().IsValid())
	assert.NotEqual(t, upstreamTraceID, span.SpanContext().TraceID().String())
	require.Len(t, span.Links(), 1)
	assert.Equal(t, upstreamTraceID, span.Links()[0].SpanContext.TraceID().String())
	// traceresponse names the span the service actually recorded.
	assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().TraceID().String())
}

func TestDefaultsResolveFromGlobalsAtRequestTime(t *testing.T) {
	if !telemetrytest.Isolated(t) {
		return
	}
	// Built before the globals are set, as a package-level handler would be.
	h := httptrace.WrapHandler(okHandler("ok"))
	client := httptrace.WrapClient(nil)

	tel := telemetrytest.New(t)
	prevTP := otel.GetTracerProvider()
	otel.SetTracerProvider(tel.TracerProvider)
	t.Cleanup(func() { otel.SetTracerProvider(prevTP) })
	telemetrytest.InstallGlobalPropagator(t, propagation.TraceContext{})

	srv := serve(t, h)
	ctx, parent := tel.Root(context.Background(), "caller")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	parent.End()
	client.CloseIdleConnections()

	spans := tel.Recorder.Ended()
	require.Len(t, spans, 3, "caller, client and server spans")
	for _, s := range spans {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), s.Name())
	}
}

func TestMisusePanics(t *testing.T) {
	telemetrytest.WantPanic(t, "httptrace.WrapHandler: handler is nil", func() { httptrace.WrapHandler(nil) })
	telemetrytest.WantPanic(t, "httptrace.WithFilter: filter is nil", func() { httptrace.WithFilter(nil) })
	telemetrytest.WantPanic(t, "httptrace.WithRouteFunc: function is nil", func() { httptrace.WithRouteFunc(nil) })
}

// An option of another adapter is a mistake caught where it is made.
func TestConstructorsRejectOtherAdaptersOptions(t *testing.T) {
	const tail = ": option watermilltrace.WithMaxUnsettled belongs to package watermilltrace and does not apply here"
	foreign := watermilltrace.WithMaxUnsettled(1)
	telemetrytest.WantPanic(t, "httptrace.NewMiddleware"+tail, func() { httptrace.NewMiddleware(foreign) })
	telemetrytest.WantPanic(t, "httptrace.WrapHandler"+tail, func() { httptrace.WrapHandler(okHandler("ok"), foreign) })
	telemetrytest.WantPanic(t, "httptrace.WrapTransport"+tail, func() { httptrace.WrapTransport(nil, foreign) })
	telemetrytest.WantPanic(t, "httptrace.WrapClient"+tail, func() { httptrace.WrapClient(nil, foreign) })

	// The messaging options of package asynctrace are accepted and have no
	// effect on HTTP spans.
	tel := telemetrytest.New(t)
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(asynctrace.WithLinkToProducer(), asynctrace.WithMessageBodySize())...))
	get(t, srv, "/x", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
	assert.Equal(t, upstreamSpanID, tel.One(t, "GET").Parent().SpanID().String())
}

// Nil options are skipped by every constructor; the ones around them still
// apply.
func TestNilOptionsIgnored(t *testing.T) {
	tel := telemetrytest.New(t)
	opts := append([]asynctrace.Option{nil}, tel.Options(nil, httptrace.WithHealthPaths("/skip"), nil)...)
	mux := http.NewServeMux()
	mux.Handle("GET /a", okHandler("a"))
	mux.Handle("GET /skip", okHandler("skip"))
	srv := serve(t, httptrace.WrapHandler(mux, opts...))
	mw := httptrace.NewMiddleware(opts...)(okHandler("b"))
	srvB := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "/b"
		mw.ServeHTTP(w, r)
	}))

	client := httptrace.WrapClient(srv.Client(), opts...)
	rt := httptrace.WrapTransport(srvB.Client().Transport, opts...)
	for _, do := range []func() (*http.Response, error){
		func() (*http.Response, error) { return client.Get(srv.URL + "/a") },
		func() (*http.Response, error) { return client.Get(srv.URL + "/skip") },
		func() (*http.Response, error) {
			req, err := http.NewRequest(http.MethodPost, srvB.URL+"/b", nil)
			require.NoError(t, err)
			return rt.RoundTrip(req)
		},
	} {
		resp, err := do()
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	client.CloseIdleConnections()
	srvB.Client().CloseIdleConnections()

	tel.One(t, "GET /a")
	tel.One(t, "POST /b")
	assert.Len(t, tel.Ended("GET"), 2, "client spans of the two GETs")
	tel.One(t, "POST")
	assert.Len(t, tel.Recorder.Ended(), 5, "/skip is a health path: no server span")
}

// asynctrace.WithSpanAttributes labels the server and the client spans.
func TestWithSpanAttributes(t *testing.T) {
	tel := telemetrytest.New(t)
	team := attribute.String("team", "payments")
	srv := serve(t, httptrace.WrapHandler(okHandler("ok"), tel.Options(asynctrace.WithSpanAttributes(team, attribute.Int("shard", 3)))...))
	client := httptrace.WrapClient(srv.Client(), tel.Options(asynctrace.WithSpanAttributes(team))...)

	resp, err := client.Get(srv.URL + "/x")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	client.CloseIdleConnections()

	var server, clientSpan sdktrace.ReadOnlySpan
	for _, s := range tel.Ended("GET") {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s
		case trace.SpanKindClient:
			clientSpan = s
		}
	}
	require.NotNil(t, server, "server span")
	require.NotNil(t, clientSpan, "client span")
	telemetrytest.WantAttr(t, server, "team", "payments")
	telemetrytest.WantAttr(t, server, "shard", int64(3))
	telemetrytest.WantAttr(t, clientSpan, "team", "payments")
	telemetrytest.NoAttr(t, clientSpan, "shard")
	// otelhttp's own attributes are still there.
	telemetrytest.WantAttr(t, server, "http.request.method", "GET")
	telemetrytest.WantAttr(t, clientSpan, "http.request.method", "GET")
}

// Wrapping a traced handler again leaves it as it is: one server span per
// request, not two.
func TestWrapHandlerTwiceIsOneSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	h := httptrace.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), tel.Options()...)
	if again := httptrace.WrapHandler(h, tel.Options()...); again != h {
		t.Fatal("WrapHandler of a wrapped handler returned a new handler")
	}
	srv := httptest.NewServer(httptrace.NewMiddleware(tel.Options()...)(h))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	srv.Client().CloseIdleConnections()
	if n := len(tel.Recorder.Ended()); n != 1 {
		t.Fatalf("%d spans for one request through two layers, want 1", n)
	}
}
