package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// headerEcho answers with the request's traceparent and baggage headers, one
// per line, and the baggage member tenant its handler context carries.
var headerEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, r.Header.Get("traceparent")+"\n"+r.Header.Get("baggage")+"\n"+
		baggage.FromContext(r.Context()).Member("tenant").Value())
})

// call sends GET /echo through client inside a root span with baggage
// tenant=acme, and returns the root span's trace id and the three lines
// headerEcho answered.
func call(t *testing.T, tel *telemetrytest.Telemetry, client *http.Client, url string) (string, []string) {
	t.Helper()
	member, err := baggage.NewMember("tenant", "acme")
	require.NoError(t, err)
	bag, err := baggage.New(member)
	require.NoError(t, err)
	ctx, root := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "caller")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/echo", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	root.End()
	client.CloseIdleConnections()
	lines := strings.Split(string(body), "\n")
	require.Len(t, lines, 3, "echo %q", body)
	return root.SpanContext().TraceID().String(), lines
}

// With a tracer provider alone, no propagator given and none installed, the
// server continues an incoming traceparent and the client and transport
// inject one, with the baggage.
func TestContextFlowsWithOnlyTracerProvider(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	only := asynctrace.WithTracerProvider(tel.TracerProvider)
	mux := http.NewServeMux()
	mux.Handle("GET /echo", headerEcho)
	srv := serve(t, httptrace.WrapHandler(mux, only))

	t.Run("server", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/echo", nil)
		require.NoError(t, err)
		req.Header.Set("traceparent", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")
		req.Header.Set("baggage", "tenant=acme")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.True(t, strings.HasSuffix(string(body), "\nacme"), "the handler saw the caller's baggage: %q", body)
		span := tel.One(t, "GET /echo")
		assert.Equal(t, upstreamTraceID, span.SpanContext().TraceID().String())
		assert.Equal(t, upstreamSpanID, span.Parent().SpanID().String())
		assert.True(t, span.Parent().IsRemote())
	})

	for name, client := range map[string]*http.Client{
		"WrapClient":    httptrace.WrapClient(srv.Client(), only),
		"WrapTransport": {Transport: httptrace.WrapTransport(srv.Client().Transport, only)},
	} {
		t.Run(name, func(t *testing.T) {
			tel.Recorder.Reset()
			traceID, got := call(t, tel, client, srv.URL)
			cs, ss := tel.One(t, "GET"), tel.One(t, "GET /echo")
			assert.Equal(t, "00-"+traceID+"-"+cs.SpanContext().SpanID().String()+"-01", got[0], "traceparent names the client span")
			assert.Equal(t, "tenant=acme", got[1])
			assert.Equal(t, "acme", got[2], "the server's handler saw the baggage")
			assert.Equal(t, traceID, ss.SpanContext().TraceID().String())
			assert.Equal(t, cs.SpanContext().SpanID(), ss.Parent().SpanID(), "server span is a child of the client span")
		})
	}
}

// wantOnlyBaggageCarried checks a call whose propagator is Baggage alone:
// the baggage crosses, the trace does not.
func wantOnlyBaggageCarried(t *testing.T, tel *telemetrytest.Telemetry, traceID string, got []string) {
	t.Helper()
	assert.Empty(t, got[0], "no traceparent without a trace propagator")
	assert.Equal(t, "tenant=acme", got[1])
	assert.Equal(t, "acme", got[2])
	ss := tel.One(t, "GET /echo")
	assert.False(t, ss.Parent().IsValid(), "the server continued a trace without a trace propagator")
	assert.NotEqual(t, traceID, ss.SpanContext().TraceID().String())
	assert.Equal(t, traceID, tel.One(t, "GET").SpanContext().TraceID().String(), "the client span is in the caller's trace")
}

// echoServer serves headerEcho at /echo with opts and returns it with a
// client built with opts.
func echoServer(t *testing.T, opts ...asynctrace.Option) (string, *http.Client) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /echo", headerEcho)
	srv := serve(t, httptrace.WrapHandler(mux, opts...))
	return srv.URL, httptrace.WrapClient(srv.Client(), opts...)
}

// A propagator given as an option replaces the W3C default.
func TestPropagatorOptionWins(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	url, client := echoServer(t, asynctrace.WithTracerProvider(tel.TracerProvider), asynctrace.WithPropagators(propagation.Baggage{}))
	traceID, got := call(t, tel, client, url)
	wantOnlyBaggageCarried(t, tel, traceID, got)
}

// A propagator installed globally replaces the W3C default, even when it is
// installed after the server and client were built.
func TestGlobalPropagatorWins(t *testing.T) {
	if !telemetrytest.Isolated(t) {
		return
	}
	tel := telemetrytest.New(t)
	url, client := echoServer(t, asynctrace.WithTracerProvider(tel.TracerProvider))
	telemetrytest.InstallGlobalPropagator(t, propagation.Baggage{})
	traceID, got := call(t, tel, client, url)
	wantOnlyBaggageCarried(t, tel, traceID, got)
}
