package pulsartrace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// panicMessage runs f and returns what it panicked with, as a string, or
// fails the test if it did not panic.
func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func TestMisusePanicsAtConstruction(t *testing.T) {
	noop := func(context.Context, pulsar.Message) error { return nil }
	// Stand-ins that are not nil; construction calls none of their methods
	// before it checks its options.
	var (
		someClient   = struct{ pulsar.Client }{}
		someReader   = struct{ pulsar.Reader }{}
		someConsumer = struct{ pulsar.Consumer }{}
		foreign      = watermilltrace.WithMaxUnsettled(1)
	)
	for _, tc := range []struct {
		name string
		f    func()
		want string // the whole message, or its start when ending in "..."
	}{
		{"WrapClient nil", func() { WrapClient(nil) }, "pulsartrace.WrapClient: client is nil"},
		{"WrapProducer nil", func() { WrapProducer(nil) }, "pulsartrace.WrapProducer: producer is nil"},
		{"WrapConsumer nil", func() { WrapConsumer(nil) }, "pulsartrace.WrapConsumer: consumer is nil"},
		{"WrapReader nil", func() { WrapReader(nil) }, "pulsartrace.WrapReader: reader is nil"},
		{"Handle nil consumer", func() { _ = Handle(context.Background(), nil, noop) }, "pulsartrace.Handle: consumer is nil"},
		{"Handle nil handler", func() { _ = Handle(context.Background(), newFakeConsumer(), nil) }, "pulsartrace.Handle: handler is nil"},
		{"Handle nil both", func() { _ = Handle(context.Background(), nil, nil) }, "pulsartrace.Handle: consumer is nil"},
		{"WithMaxUnsettled 0", func() { WithMaxUnsettled(0) }, "pulsartrace.WithMaxUnsettled: n must be at least 1, got 0"},
		{"WithMaxUnsettled negative", func() { WithMaxUnsettled(-5) }, "pulsartrace.WithMaxUnsettled: n must be at least 1, got -5"},
		{"WithServiceURL unparsable", func() { WithServiceURL("::bad") }, `pulsartrace.WithServiceURL: "::bad" ...`},
		{"WithServiceURL empty", func() { WithServiceURL("") }, `pulsartrace.WithServiceURL: "" ...`},
		{"WithServiceURL bad port", func() { WithServiceURL("pulsar://broker:99999") }, `pulsartrace.WithServiceURL: "pulsar://broker:99999" ...`},
		{"WrapClient foreign option", func() { WrapClient(someClient, foreign) },
			"pulsartrace.WrapClient: option watermilltrace.WithMaxUnsettled belongs to package watermilltrace and does not apply here"},
		{"WrapProducer foreign option", func() { WrapProducer(&fakeProducer{}, foreign) },
			"pulsartrace.WrapProducer: option watermilltrace.WithMaxUnsettled belongs to package watermilltrace and does not apply here"},
		{"WrapConsumer foreign option", func() { WrapConsumer(someConsumer, nil, foreign) },
			"pulsartrace.WrapConsumer: option watermilltrace.WithMaxUnsettled belongs to package watermilltrace and does not apply here"},
		{"WrapReader foreign option", func() { WrapReader(someReader, foreign) },
			"pulsartrace.WrapReader: option watermilltrace.WithMaxUnsettled belongs to package watermilltrace and does not apply here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := panicMessage(t, tc.f)
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("panic %q, want it to start with %q", got, prefix)
				}
			} else if got != tc.want {
				t.Errorf("panic %q, want %q", got, tc.want)
			}
		})
	}
}

// Nil options are ignored, and the smallest valid values are accepted.
func TestNilAndBoundaryOptions(t *testing.T) {
	tel := telemetrytest.New(t)
	fc := newFakeConsumer()
	c := WrapConsumer(fc, append(tel.Options(nil, WithMaxUnsettled(1)), nil)...)
	defer c.Close()
	ctx := contextWithTimeout(t)
	for i := range 2 {
		fc.push(message(int64(i), nil))
		if _, err := c.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := unsettledOf(c); n != 1 {
		t.Errorf("%d unsettled with WithMaxUnsettled(1), want 1", n)
	}
	p := WrapProducer(&fakeProducer{topic: "orders"}, nil, WithServiceURL("pulsar://broker"), asynctrace.WithTracerProvider(tel.TracerProvider))
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{}); err != nil {
		t.Fatal(err)
	}
	telemetrytest.WantAttr(t, tel.One(t, "send orders"), semconv.ServerPortKey, int64(6650))
}

// Handle traces a consumer that was not wrapped with the default options:
// the global tracer provider, which is the no-op one in these tests, and
// W3C propagation, so the handler's context still continues the producer's
// trace and settlements still reach the client's consumer.
func TestHandleTracesAnUntracedConsumer(t *testing.T) {
	if fields := otel.GetTextMapPropagator().Fields(); len(fields) != 0 {
		t.Fatalf("a global propagator is installed (fields %v); this test needs OpenTelemetry's default", fields)
	}
	tel := telemetrytest.New(t)
	props, send := produced(t, tel, tel.Options(), context.Background(), nil)
	fc := newFakeConsumer()
	defer fc.Close()
	fc.push(message(1, props))
	fc.push(message(2, props))
	ctx, cancel := context.WithCancel(contextWithTimeout(t))
	defer cancel()
	var calls int
	err := Handle(ctx, fc, func(ctx context.Context, msg pulsar.Message) error {
		calls++
		if sc := trace.SpanContextFromContext(ctx); sc.TraceID() != send.SpanContext().TraceID() {
			t.Errorf("handler context in trace %s, want the producer's %s", sc.TraceID(), send.SpanContext().TraceID())
		}
		if ContextFromMessage(msg) == context.Background() {
			t.Error("the handler's message carries no context")
		}
		if calls == 2 {
			cancel()
			return errors.New("cannot process")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Handle returned %v after cancel, want nil", err)
	}
	if acked, nacked, _, _ := fc.counts(); acked != 1 || nacked != 1 {
		t.Errorf("client got %d acks, %d nacks; want 1, 1", acked, nacked)
	}
	if n := len(tel.Ended("process orders")); n != 0 {
		t.Errorf("%d process spans recorded with the test's provider, which the consumer was not given", n)
	}
}
