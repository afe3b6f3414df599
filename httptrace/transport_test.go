package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
)

func spansByKind(spans []sdktrace.ReadOnlySpan, kind trace.SpanKind) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

func TestClientTransportPropagatesToServer(t *testing.T) {
	f := newFixture(t, nil)
	var gotTraceparent string
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotTraceparent = r.Header.Get("traceparent")
		_, _ = io.WriteString(w, "pong")
	})
	srv := serve(t, httptrace.Handler(backend, f.options()...))

	client := httptrace.Client(srv.Client(), f.options()...)
	ctx, parent := f.tp.Tracer("test").Start(context.Background(), "caller")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/ping", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	parent.End()
	assert.Equal(t, "pong", string(body))

	spans := f.rec.Ended()
	clients := spansByKind(spans, trace.SpanKindClient)
	servers := spansByKind(spans, trace.SpanKindServer)
	require.Len(t, clients, 1)
	require.Len(t, servers, 1)
	cs, ss := clients[0], servers[0]

	assert.Equal(t, "GET", cs.Name())
	assert.Equal(t, parent.SpanContext().SpanID(), cs.Parent().SpanID(), "client span is a child of the caller")
	assert.Equal(t, parent.SpanContext().TraceID(), cs.SpanContext().TraceID())
	assert.Equal(t, cs.SpanContext().SpanID(), ss.Parent().SpanID(), "server span is a child of the client span")
	assert.Equal(t, cs.SpanContext().TraceID(), ss.SpanContext().TraceID())
	assert.Equal(t, "00-"+cs.SpanContext().TraceID().String()+"-"+cs.SpanContext().SpanID().String()+"-01", gotTraceparent)

	// The caller can read the server span's id from the response.
	assert.Equal(t, "00-"+ss.SpanContext().TraceID().String()+"-"+ss.SpanContext().SpanID().String()+"-01",
		resp.Header.Get("traceresponse"))
}

func TestTransportWithoutParentStartsRoot(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, okHandler("ok"))

	rt := httptrace.Transport(srv.Client().Transport, f.options()...)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/x", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	span := onlySpan(t, f.rec)
	assert.Equal(t, trace.SpanKindClient, span.SpanKind())
	assert.Equal(t, "POST", span.Name())
	assert.False(t, span.Parent().IsValid())
	assert.Empty(t, req.Header.Get("traceparent"), "the caller's request must not be modified")
}

func TestClientDoesNotModifyBase(t *testing.T) {
	f := newFixture(t, nil)
	base := &http.Client{}
	c := httptrace.Client(base, f.options()...)
	assert.Nil(t, base.Transport, "base client must be left alone")
	assert.NotNil(t, c.Transport)
	assert.NotSame(t, base, c)

	assert.NotNil(t, httptrace.Client(nil).Transport)
}

func TestTransportRoundTripErrorIsRecorded(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, okHandler("ok"))
	url := srv.URL
	srv.Close() // nothing listens any more

	c := httptrace.Client(nil, f.options()...)
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err)

	span := onlySpan(t, f.rec)
	assert.Equal(t, "Error", span.Status().Code.String())
}

type closeRecorder struct {
	http.RoundTripper
	closed int
}

func (c *closeRecorder) CloseIdleConnections() { c.closed++ }

func TestClientCloseIdleConnectionsReachesBase(t *testing.T) {
	f := newFixture(t, nil)
	srv := serve(t, okHandler("ok"))
	base := &closeRecorder{RoundTripper: srv.Client().Transport}
	c := httptrace.Client(&http.Client{Transport: base}, f.options()...)

	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	c.CloseIdleConnections()
	assert.Equal(t, 1, base.closed)
	assert.Len(t, f.rec.Ended(), 1)

	// A base without the method is fine too.
	plain := httptrace.Transport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, http.ErrNotSupported
	}))
	(&http.Client{Transport: plain}).CloseIdleConnections()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
