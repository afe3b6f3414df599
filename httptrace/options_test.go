package httptrace_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace/httptrace"
)

func TestOTelHTTPOptionsPassThrough(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, httptrace.Handler(okHandler("ok"), f.options(httptrace.WithOTelHTTPOptions(
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return op + " " + r.URL.Path }),
	))...))

	_, _, hdr := get(t, srv, "/public", "00-"+upstreamTraceID+"-"+upstreamSpanID+"-01")

	span := onlySpan(t, f.rec)
	assert.Equal(t, "http.server /public", span.Name())
	// A public endpoint starts a new trace and links the caller's span.
	assert.False(t, span.Parent().IsValid())
	assert.NotEqual(t, upstreamTraceID, span.SpanContext().TraceID().String())
	require.Len(t, span.Links(), 1)
	assert.Equal(t, upstreamTraceID, span.Links()[0].SpanContext.TraceID().String())
	// traceresponse names the span the service actually recorded.
	assert.Contains(t, hdr.Get("traceresponse"), span.SpanContext().TraceID().String())
}

func TestDefaultsResolveFromGlobalsAtRequestTime(t *testing.T) {
	// Built before the globals are set, as a package-level handler would be.
	h := httptrace.Handler(okHandler("ok"))
	client := httptrace.Client(nil)

	f := newFixture(t, nil)
	otel.SetTracerProvider(f.tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	srv := serve(t, h)
	ctx, parent := f.tp.Tracer("test").Start(context.Background(), "caller")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	parent.End()
	client.CloseIdleConnections()

	spans := f.rec.Ended()
	require.Len(t, spans, 3, "caller, client and server spans")
	for _, s := range spans {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), s.Name())
	}
}
