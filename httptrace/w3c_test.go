package httptrace_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

const (
	w3cParent      = "00-" + upstreamTraceID + "-" + upstreamSpanID + "-01"
	w3cOtherParent = "00-12345678901234567890123456789012-1234567890123456-01"
)

// header is one header line as sent on the wire.
type header struct{ name, value string }

// w3cCase is one rule of W3C Trace Context: the header lines a request
// carries, whether its trace is continued, and the tracestate the next hop
// must receive.
type w3cCase struct {
	name      string
	lines     []header
	continued bool
	state     string
}

// members returns n list-members "kNN=vNN" from first on, comma-joined.
func members(first, n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf("k%02d=v%02d", first+i, first+i)
	}
	return strings.Join(m, ",")
}

func tp(v string) header { return header{"traceparent", v} }
func ts(v string) header { return header{"tracestate", v} }

var (
	longKey   = "a" + strings.Repeat("z", 255)                                  // 256 characters
	tenantKey = "0" + strings.Repeat("t", 240) + "@s" + strings.Repeat("v", 13) // 241 "@" 14
)

var w3cCases = []w3cCase{
	{
		name:  "two traceparent lines restart the trace",
		lines: []header{tp(w3cParent), tp(w3cOtherParent), ts("congo=1")},
	},
	{
		name:  "two equal traceparent lines restart the trace",
		lines: []header{tp(w3cParent), tp(w3cParent), ts("congo=1")},
	},
	{
		name:  "tracestate without traceparent is discarded",
		lines: []header{ts("congo=1")},
	},
	{
		name:      "tracestate lines are one list in order",
		lines:     []header{tp(w3cParent), ts("foo=1,bar=2"), ts("rojo=1,congo=2"), ts("baz=3")},
		continued: true,
		state:     "foo=1,bar=2,rojo=1,congo=2,baz=3",
	},
	{
		name:      "empty tracestate lines add nothing",
		lines:     []header{tp(w3cParent), ts(""), ts("foo=1"), ts("")},
		continued: true,
		state:     "foo=1",
	},
	{
		name:      "32 members over several lines are kept",
		lines:     []header{tp(w3cParent), ts(members(1, 10)), ts(members(11, 10)), ts(members(21, 12))},
		continued: true,
		state:     members(1, 32),
	},
	{
		name:      "long and multi-tenant keys are kept",
		lines:     []header{tp(w3cParent), ts("foo=1"), ts(longKey + "=2"), ts(tenantKey + "=3,acme@congo=4")},
		continued: true,
		state:     "foo=1," + longKey + "=2," + tenantKey + "=3,acme@congo=4",
	},
	{
		name:      "a repeated key keeps its left-most entry",
		lines:     []header{tp(w3cParent), ts("foo=1,bar=2,foo=3"), ts("bar=4,baz=5")},
		continued: true,
		state:     "foo=1,bar=2,baz=5",
	},
	{
		name:      "an invalid member is dropped alone",
		lines:     []header{tp(w3cParent), ts("foo=1,BAR=2,baz=,x=a=b,qux=4"), ts(strings.Repeat("z", 257) + "=5,last=6")},
		continued: true,
		state:     "foo=1,qux=4,last=6",
	},
	{
		name:      "whitespace-only members are dropped",
		lines:     []header{tp(w3cParent), ts("foo=1, ,\t,bar=2 \t, \tbaz=3, ")},
		continued: true,
		state:     "foo=1,bar=2,baz=3",
	},
	{
		name:      "members beyond 32 are dropped from the right",
		lines:     []header{tp(w3cParent), ts(members(1, 20)), ts(members(21, 15))},
		continued: true,
		state:     members(1, 32),
	},
}

// propagatorSetups are the ways W3C Trace Context comes into effect: the
// package default while no global propagator is installed, the
// propagator alone, and inside a composite.
var propagatorSetups = []struct {
	name string
	opts func(*telemetrytest.Telemetry) []asynctrace.Option
}{
	{"default", func(tel *telemetrytest.Telemetry) []asynctrace.Option {
		return []asynctrace.Option{asynctrace.WithTracerProvider(tel.TracerProvider), asynctrace.WithMeterProvider(tel.MeterProvider)}
	}},
	{"TraceContext", func(tel *telemetrytest.Telemetry) []asynctrace.Option {
		return tel.Options(asynctrace.WithPropagators(propagation.TraceContext{}))
	}},
	{"composite", func(tel *telemetrytest.Telemetry) []asynctrace.Option {
		return tel.Options(asynctrace.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.Baggage{}, propagation.TraceContext{})))
	}},
}

// send makes a request to url with the given header lines, each sent as a
// line of its own, and drains the response.
func send(t *testing.T, ctx context.Context, client *http.Client, url string, lines []header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, l := range lines {
		req.Header[http.CanonicalHeaderKey(l.name)] = append(req.Header[http.CanonicalHeaderKey(l.name)], l.value)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// checkServerSpan checks the trace a server span joined against c.
func checkServerSpan(t *testing.T, c w3cCase, sc, parent trace.SpanContext) {
	t.Helper()
	if c.continued {
		assert.Equal(t, upstreamTraceID, sc.TraceID().String(), "trace id")
		assert.True(t, parent.IsRemote(), "the span's parent is the caller")
		assert.Equal(t, upstreamSpanID, parent.SpanID().String(), "parent span id")
	} else {
		assert.False(t, parent.IsValid(), "the span must have no parent, got %v", parent)
		assert.NotEqual(t, upstreamTraceID, sc.TraceID().String())
		assert.NotEqual(t, "12345678901234567890123456789012", sc.TraceID().String())
	}
	assert.Equal(t, c.state, sc.TraceState().String(), "tracestate")
}

func TestW3CServerRules(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	for _, setup := range propagatorSetups {
		t.Run(setup.name, func(t *testing.T) {
			for _, c := range w3cCases {
				t.Run(c.name, func(t *testing.T) {
					tel := telemetrytest.New(t)
					srv := serve(t, httptrace.WrapHandler(okHandler("ok"), setup.opts(tel)...))
					send(t, context.Background(), srv.Client(), srv.URL+"/orders", c.lines)
					span := tel.WaitEnded(t, "GET", 1)[0]
					checkServerSpan(t, c, span.SpanContext(), span.Parent())
				})
			}
		})
	}
}

// headerRecorder is a downstream service that hands over the trace headers
// of every request it gets.
func headerRecorder(t *testing.T) (*httptest.Server, <-chan http.Header) {
	got := make(chan http.Header, 8)
	srv := serve(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	return srv, got
}

// checkOutgoing checks the trace headers a downstream service received:
// exactly one traceparent, with wantTrace as trace id, and tracestate as
// one line equal to state (or none when state is empty).
func checkOutgoing(t *testing.T, h http.Header, wantTrace trace.TraceID, state string) {
	t.Helper()
	require.Len(t, h.Values("traceparent"), 1, "traceparent lines: %q", h.Values("traceparent"))
	assert.Equal(t, "00-"+wantTrace.String()+"-", h.Get("traceparent")[:36], "outgoing trace id")
	if state == "" {
		assert.Empty(t, h.Values("tracestate"), "outgoing tracestate")
	} else {
		assert.Equal(t, []string{state}, h.Values("tracestate"), "outgoing tracestate")
	}
}

func TestW3CClientReplacesStaleHeaders(t *testing.T) {
	tel := telemetrytest.New(t)
	down, got := headerRecorder(t)
	client := httptrace.WrapClient(down.Client(), tel.Options()...)
	stale := []header{tp(w3cOtherParent), tp(w3cParent), ts("stale=1"), ts("old=2")}

	t.Run("context without tracestate", func(t *testing.T) {
		ctx, root := tel.Root(context.Background(), "caller")
		send(t, ctx, client, down.URL, stale)
		root.End()
		checkOutgoing(t, telemetrytest.Recv(t, got, "downstream request"), root.SpanContext().TraceID(), "")
	})
	t.Run("context with tracestate", func(t *testing.T) {
		state, err := trace.ParseTraceState("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
		require.NoError(t, err)
		remote := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: mustTraceID(t, upstreamTraceID), SpanID: mustSpanID(t, upstreamSpanID),
			TraceFlags: trace.FlagsSampled, TraceState: state, Remote: true,
		})
		ctx, root := tel.Root(trace.ContextWithRemoteSpanContext(context.Background(), remote), "caller")
		send(t, ctx, client, down.URL, stale)
		root.End()
		checkOutgoing(t, telemetrytest.Recv(t, got, "downstream request"), remote.TraceID(), state.String())
	})
}

func mustTraceID(t *testing.T, s string) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(s)
	require.NoError(t, err)
	return id
}

func mustSpanID(t *testing.T, s string) trace.SpanID {
	t.Helper()
	id, err := trace.SpanIDFromHex(s)
	require.NoError(t, err)
	return id
}

// TestW3CThroughBroker follows each rule from an HTTP request through a
// Pulsar message to the HTTP call its consumer makes: the server decides
// once, and what it kept reaches the next HTTP hop unchanged.
func TestW3CThroughBroker(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	for _, setup := range propagatorSetups {
		t.Run(setup.name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			opts := setup.opts(tel)
			broker := pulsartest.NewServer(t)
			pc, err := pulsar.NewClient(pulsar.ClientOptions{URL: broker.URL(), Logger: plog.DefaultNopLogger()})
			require.NoError(t, err)
			t.Cleanup(pc.Close)
			rawConsumer, err := pc.Subscribe(pulsar.ConsumerOptions{Topic: "orders", SubscriptionName: "billing"})
			require.NoError(t, err)
			consumer := pulsartrace.WrapConsumer(rawConsumer, opts...)
			t.Cleanup(consumer.Close)
			rawProducer, err := pc.CreateProducer(pulsar.ProducerOptions{Topic: "orders"})
			require.NoError(t, err)
			producer := pulsartrace.WrapProducer(rawProducer, opts...)
			t.Cleanup(producer.Close)

			// The service: its HTTP handler publishes, its consumer calls
			// the downstream service.
			spans := make(chan sdktrace.ReadOnlySpan, 1)
			front := serve(t, httptrace.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if span, ok := trace.SpanFromContext(r.Context()).(sdktrace.ReadOnlySpan); ok {
					spans <- span
				}
				if _, err := producer.Send(r.Context(), &pulsar.ProducerMessage{Payload: []byte(r.URL.Path)}); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			}), opts...))
			down, got := headerRecorder(t)
			client := httptrace.WrapClient(down.Client(), opts...)

			for _, c := range w3cCases {
				t.Run(c.name, func(t *testing.T) {
					send(t, context.Background(), front.Client(), front.URL+"/orders", c.lines)
					server := telemetrytest.Recv(t, spans, "server span")
					checkServerSpan(t, c, server.SpanContext(), server.Parent())

					ctx, cancel := context.WithTimeout(context.Background(), telemetrytest.WaitTimeout)
					defer cancel()
					msg, err := consumer.Receive(ctx)
					require.NoError(t, err)
					mctx := pulsartrace.ContextFromMessage(msg)
					assert.Equal(t, c.state, trace.SpanContextFromContext(mctx).TraceState().String(), "tracestate after the broker")
					send(t, mctx, client, down.URL, nil)
					require.NoError(t, consumer.Ack(msg))

					checkOutgoing(t, telemetrytest.Recv(t, got, "downstream request"), server.SpanContext().TraceID(), c.state)
				})
			}
		})
	}
}
