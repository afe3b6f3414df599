package watermilltrace_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func nopPublisher() message.Publisher {
	return watermilltest.PublishFunc(func(string, ...*message.Message) error { return nil })
}

func TestConstructorsPanicOnNil(t *testing.T) {
	telemetrytest.WantPanic(t, "watermilltrace.WrapPublisher: publisher is nil", func() { watermilltrace.WrapPublisher(nil) })
	telemetrytest.WantPanic(t, "watermilltrace.WrapSubscriber: subscriber is nil", func() { watermilltrace.WrapSubscriber(nil) })
}

func TestWithMaxUnsettledPanicsBelowOne(t *testing.T) {
	for _, n := range []int{0, -1} {
		telemetrytest.WantPanic(t, fmt.Sprintf("watermilltrace.WithMaxUnsettled: n must be at least 1, got %d", n), func() {
			watermilltrace.WithMaxUnsettled(n)
		})
	}
}

// An option of another adapter is a mistake caught where it is made.
func TestConstructorsRejectOtherAdaptersOptions(t *testing.T) {
	const tail = ": option httptrace.WithoutTraceResponse belongs to package httptrace and does not apply here"
	foreign := httptrace.WithoutTraceResponse()
	sub := chanSubscriber{ch: make(chan *message.Message)}
	telemetrytest.WantPanic(t, "watermilltrace.NewMiddleware"+tail, func() { watermilltrace.NewMiddleware(foreign) })
	telemetrytest.WantPanic(t, "watermilltrace.NewPublisherDecorator"+tail, func() { watermilltrace.NewPublisherDecorator(foreign) })
	telemetrytest.WantPanic(t, "watermilltrace.WrapPublisher"+tail, func() { watermilltrace.WrapPublisher(nopPublisher(), foreign) })
	telemetrytest.WantPanic(t, "watermilltrace.WrapSubscriber"+tail, func() { watermilltrace.WrapSubscriber(sub, foreign) })

	// This package's options go to every constructor of it, even where
	// they have no effect.
	own := watermilltrace.WithMaxUnsettled(1)
	watermilltrace.NewMiddleware(own)
	watermilltrace.NewPublisherDecorator(own)
	watermilltrace.WrapPublisher(nopPublisher(), own)
	if err := watermilltrace.WrapSubscriber(sub, own).Close(); err != nil {
		t.Fatal(err)
	}
}

// Nil options are skipped; the ones around them still apply.
func TestNilOptionsIgnored(t *testing.T) {
	tel := telemetrytest.New(t)
	opts := append([]asynctrace.Option{nil}, tel.Options(nil, watermilltrace.WithMaxUnsettled(1), nil)...)

	h := watermilltrace.NewMiddleware(opts...)(func(*message.Message) ([]*message.Message, error) { return nil, nil })
	if _, err := h(message.NewMessage("m1", nil)); err != nil {
		t.Fatal(err)
	}
	tel.One(t, "process")

	if err := watermilltrace.WrapPublisher(nopPublisher(), opts...).Publish("t", message.NewMessage("m2", nil)); err != nil {
		t.Fatal(err)
	}
	tel.One(t, "send t")

	pub, err := watermilltrace.NewPublisherDecorator(opts...)(nopPublisher())
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("decorated", message.NewMessage("m3", nil)); err != nil {
		t.Fatal(err)
	}
	tel.One(t, "send decorated")

	// With at most one message watched, handing over the second one ends
	// the first one's span before anything is settled.
	inner := chanSubscriber{ch: make(chan *message.Message)}
	sub := watermilltrace.WrapSubscriber(inner, opts...)
	msgs, err := sub.Subscribe(context.Background(), "bounded")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, id := range []string{"s1", "s2"} {
			inner.ch <- message.NewMessage(id, nil)
		}
	}()
	telemetrytest.Recv(t, msgs, "first message")
	telemetrytest.Recv(t, msgs, "second message")
	evicted := tel.WaitEnded(t, "process bounded", 1)[0]
	telemetrytest.WantAttr(t, evicted, "messaging.message.id", "s1")
	telemetrytest.WantAttr(t, evicted, "asynctrace.message.settlement", "abandoned")
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWrapTwiceReturnsTheWrappedValue(t *testing.T) {
	tel := telemetrytest.New(t)
	pub := watermilltrace.WrapPublisher(nopPublisher(), tel.Options()...)
	again := watermilltrace.WrapPublisher(pub, tel.Options()...)
	if again != pub {
		t.Errorf("WrapPublisher of a wrapped publisher returned %T %p, want the same %p", again, again, pub)
	}
	if err := again.Publish("once", message.NewMessage("m1", nil)); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.Ended("send once")); n != 1 {
		t.Errorf("%d send spans for one message, want 1", n)
	}

	sub := watermilltrace.WrapSubscriber(chanSubscriber{ch: make(chan *message.Message)}, tel.Options()...)
	if again := watermilltrace.WrapSubscriber(sub, tel.Options()...); again != sub {
		t.Errorf("WrapSubscriber of a wrapped subscriber returned %p, want the same %p", again, sub)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
}

// seen is what a handler saw of the message it processed.
type seen struct {
	span        trace.SpanContext
	tenant      string
	traceparent string
}

// publishThroughRouter publishes one message in a span "request" with
// baggage tenant=acme through a publisher and a router middleware built
// with opts, and returns the root span and what the handler saw.
func publishThroughRouter(t *testing.T, tel *telemetrytest.Telemetry, opts ...asynctrace.Option) (trace.SpanContext, seen) {
	t.Helper()
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(opts...))
	out := make(chan seen, 1)
	r.AddConsumerHandler("h", "plain", g, func(msg *message.Message) error {
		out <- seen{
			span:        trace.SpanContextFromContext(msg.Context()),
			tenant:      baggage.FromContext(msg.Context()).Member("tenant").Value(),
			traceparent: msg.Metadata.Get("traceparent"),
		}
		return nil
	})
	watermilltest.StartRouter(t, r)

	member, err := baggage.NewMember("tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
	if err := watermilltrace.WrapPublisher(g, opts...).Publish("plain", message.NewMessageWithContext(ctx, "p1", nil)); err != nil {
		t.Fatal(err)
	}
	root.End()
	got := telemetrytest.Recv(t, out, "handled message")
	tel.WaitEnded(t, "send plain", 1)
	tel.WaitEnded(t, "process plain", 1)
	return root.SpanContext(), got
}

// With no propagator given and none installed globally, the context still
// travels, as W3C Trace Context and Baggage.
func TestContextFlowsWithOnlyATracerProvider(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	root, got := publishThroughRouter(t, tel, asynctrace.WithTracerProvider(tel.TracerProvider))

	tel.CheckChain(t, "request", "send plain/producer", "process plain/consumer")
	if got.span.TraceID() != root.TraceID() {
		t.Errorf("handler in trace %s, want the producer's %s", got.span.TraceID(), root.TraceID())
	}
	if got.span.SpanID() != tel.One(t, "process plain").SpanContext().SpanID() {
		t.Errorf("handler context does not carry the process span")
	}
	if got.traceparent == "" {
		t.Errorf("no traceparent in the delivered message's metadata")
	}
	if got.tenant != "acme" {
		t.Errorf("baggage tenant=%q in the handler, want acme", got.tenant)
	}
}

// A propagator given as an option replaces the default: with baggage
// only, the baggage travels and the trace context does not.
func TestPropagatorOptionWinsOverDefault(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	root, got := publishThroughRouter(t, tel,
		asynctrace.WithTracerProvider(tel.TracerProvider), asynctrace.WithPropagators(propagation.Baggage{}))

	if got.traceparent != "" {
		t.Errorf("traceparent %q in the metadata, want none from a baggage-only propagator", got.traceparent)
	}
	if got.tenant != "acme" {
		t.Errorf("baggage tenant=%q in the handler, want acme", got.tenant)
	}
	proc := tel.One(t, "process plain")
	if proc.Parent().IsValid() || proc.SpanContext().TraceID() == root.TraceID() {
		t.Errorf("process span has parent %v in trace %s; want a new root, not in the producer's trace %s",
			proc.Parent(), proc.SpanContext().TraceID(), root.TraceID())
	}
}

// A panic goes on to the caller of the middleware (the router recovers
// it) once the span has recorded it.
func TestHandlerPanicGoesOnAfterSpanEnds(t *testing.T) {
	tel := telemetrytest.New(t)
	h := watermilltrace.NewMiddleware(tel.Options()...)(func(*message.Message) ([]*message.Message, error) {
		panic("boom")
	})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the handler's panic value boom", r)
			}
		}()
		_, _ = h(message.NewMessage("p1", nil))
	}()
	proc := tel.One(t, "process")
	if st := proc.Status(); st.Code != codes.Error || st.Description != "asynctrace: handler panicked: boom" {
		t.Errorf("status %v %q, want error %q", st.Code, st.Description, "asynctrace: handler panicked: boom")
	}
}
