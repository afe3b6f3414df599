package watermilltrace_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
)

// waitTimeout bounds every wait in these tests; nothing should take close.
const waitTimeout = 20 * time.Second

var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// tracing is a tracer provider recording every span in memory.
type tracing struct {
	rec *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
}

func newTracing(t testing.TB) *tracing {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &tracing{rec: rec, tp: tp}
}

func (tr *tracing) opts(extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{asynctrace.WithTracerProvider(tr.tp), asynctrace.WithPropagators(propagator)}, extra...)
}

// waitSpans waits until n spans named name have ended and returns them.
func (tr *tracing) waitSpans(t testing.TB, name string, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got := tr.ended(name)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %d ended %q spans, have %d; all ended: %v", waitTimeout, n, name, len(got), spanNames(tr.rec.Ended()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tr *tracing) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	v, ok := attrs(s)[attribute.Key(key)]
	if !ok {
		return "<absent>"
	}
	return v.String()
}

func newGoChannel(t testing.TB, cfg gochannel.Config) *gochannel.GoChannel {
	// PreserveContext stays false: only the metadata may carry the trace.
	cfg.PreserveContext = false
	g := gochannel.NewGoChannel(cfg, watermill.NopLogger{})
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// startRouter runs r until the test ends and waits until it is running.
func startRouter(t testing.TB, r *message.Router) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("router close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("router run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("router did not stop within %s", waitTimeout)
		}
	})
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router stopped before running: %v", err)
	case <-time.After(waitTimeout):
		t.Fatalf("router not running within %s", waitTimeout)
	}
}

func newRouter(t testing.TB) *message.Router {
	t.Helper()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// parentSpan starts a span standing for the producer's own work.
func parentSpan(tr *tracing, name string) (context.Context, trace.Span) {
	return tr.tp.Tracer("test").Start(context.Background(), name)
}

// recv waits for one value from ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %s", what, waitTimeout)
	}
	var zero T
	return zero
}

// failingPublisher fails every Publish call.
type failingPublisher struct {
	mu    sync.Mutex
	calls int
}

var errBrokerDown = errors.New("broker down")

func (p *failingPublisher) Publish(string, ...*message.Message) error {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	return errBrokerDown
}

func (p *failingPublisher) Close() error { return nil }
