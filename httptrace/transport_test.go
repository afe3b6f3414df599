package httptrace_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

func TestClientTransportPropagatesToServer(t *testing.T) {
	tel := telemetrytest.New(t)
	var gotTraceparent string
	// The pattern names the server span apart from the client span.
	backend := http.NewServeMux()
	backend.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		gotTraceparent = r.Header.Get("traceparent")
		_, _ = io.WriteString(w, "pong")
	})
	srv := serve(t, httptrace.WrapHandler(backend, tel.Options()...))

	client := httptrace.WrapClient(srv.Client(), tel.Options()...)
	ctx, parent := tel.TracerProvider.Tracer("test").Start(context.Background(), "caller")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/ping", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	parent.End()
	assert.Equal(t, "pong", string(body))

	cs, ss := tel.One(t, "GET"), tel.One(t, "GET /ping")
	assert.Equal(t, trace.SpanKindClient, cs.SpanKind())
	assert.Equal(t, trace.SpanKindServer, ss.SpanKind())
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
	tel := telemetrytest.New(t)
	srv := serve(t, okHandler("ok"))

	rt := httptrace.WrapTransport(srv.Client().Transport, tel.Options()...)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/x", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	span := tel.One(t, "POST")
	assert.Equal(t, trace.SpanKindClient, span.SpanKind())
	assert.False(t, span.Parent().IsValid())
	assert.Empty(t, req.Header.Get("traceparent"), "the caller's request must not be modified")
}

func TestClientDoesNotModifyBase(t *testing.T) {
	tel := telemetrytest.New(t)
	base := &http.Client{}
	c := httptrace.WrapClient(base, tel.Options()...)
	assert.Nil(t, base.Transport, "base client must be left alone")
	assert.NotNil(t, c.Transport)
	assert.NotSame(t, base, c)

	assert.NotNil(t, httptrace.WrapClient(nil).Transport)
}

func TestTransportRoundTripErrorIsRecorded(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, okHandler("ok"))
	url := srv.URL
	srv.Close() // nothing listens any more

	c := httptrace.WrapClient(nil, tel.Options()...)
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err)

	span := tel.One(t, "GET")
	assert.Equal(t, "Error", span.Status().Code.String())
}

type closeRecorder struct {
	http.RoundTripper
	closed int
}

func (c *closeRecorder) CloseIdleConnections() { c.closed++ }

func TestClientCloseIdleConnectionsReachesBase(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, okHandler("ok"))
	base := &closeRecorder{RoundTripper: srv.Client().Transport}
	c := httptrace.WrapClient(&http.Client{Transport: base}, tel.Options()...)

	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	c.CloseIdleConnections()
	assert.Equal(t, 1, base.closed)
	assert.Len(t, tel.Recorder.Ended(), 1)

	// A base without the method is fine too.
	plain := httptrace.WrapTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, http.ErrNotSupported
	}))
	(&http.Client{Transport: plain}).CloseIdleConnections()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Wrapping a wrapped transport, directly or through WrapClient, returns it
// unchanged: a request gets one client span, not two.
func TestWrapTransportTwiceIsOnce(t *testing.T) {
	tel := telemetrytest.New(t)
	srv := serve(t, okHandler("ok"))
	once := httptrace.WrapTransport(srv.Client().Transport, tel.Options()...)
	assert.Same(t, once, httptrace.WrapTransport(once, tel.Options()...))
	client := httptrace.WrapClient(&http.Client{Transport: once}, tel.Options()...)
	assert.Same(t, once, client.Transport)

	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	client.CloseIdleConnections()
	tel.One(t, "GET")
}
