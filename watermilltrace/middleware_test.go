package watermilltrace_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// handled is what a test handler saw.
type handled struct {
	span trace.SpanContext
	msg  *message.Message
}

func recordingHandler(out chan<- handled) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		out <- handled{span: trace.SpanContextFromContext(msg.Context()), msg: msg}
		return nil
	}
}

func TestMiddlewareContinuesTraceThroughReturnedMessages(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	r.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(tel.Options()...))
	r.AddHandler("enrich", "orders", g, "orders.enriched", g, func(msg *message.Message) ([]*message.Message, error) {
		// A new message with no context of its own.
		return []*message.Message{message.NewMessage(watermill.NewUUID(), msg.Payload)}, nil
	})
	done := make(chan handled, 1)
	r.AddConsumerHandler("store", "orders.enriched", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)

	ctx, root := tel.Root(context.Background(), "request")
	pub := watermilltrace.WrapPublisher(g, tel.Options()...)
	if err := pub.Publish("orders", message.NewMessageWithContext(ctx, watermill.NewUUID(), []byte("o1"))); err != nil {
		t.Fatal(err)
	}
	root.End()
	last := telemetrytest.Recv(t, done, "message in the second handler")

	tel.WaitEnded(t, "send orders", 1)
	proc1 := tel.WaitEnded(t, "process orders", 1)[0]
	tel.WaitEnded(t, "send orders.enriched", 1)
	proc2 := tel.WaitEnded(t, "process orders.enriched", 1)[0]
	tel.CheckChain(t, "request", "send orders/producer", "process orders/consumer",
		"send orders.enriched/producer", "process orders.enriched/consumer")
	if last.span.SpanID() != proc2.SpanContext().SpanID() {
		t.Errorf("second handler's context carries span %s, want its process span %s", last.span.SpanID(), proc2.SpanContext().SpanID())
	}
	if got := telemetrytest.AttrString(proc1, "watermill.handler.name"); got != "enrich" {
		t.Errorf("handler name %s, want enrich", got)
	}
	if got := telemetrytest.AttrString(proc2, "watermill.handler.name"); got != "store" {
		t.Errorf("handler name %s, want store", got)
	}
	for k, want := range map[string]string{
		"messaging.system":           "watermill",
		"messaging.destination.name": "orders",
		"messaging.operation.type":   "process",
		"messaging.message.id":       last.msg.UUID,
	} {
		got := telemetrytest.AttrString(proc1, attribute.Key(k))
		if k == "messaging.message.id" {
			got, want = telemetrytest.AttrString(proc2, attribute.Key(k)), last.msg.UUID
		}
		if got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
}

func TestReturnedCopyAndPassthroughContinueTrace(t *testing.T) {
	for name, h := range map[string]message.HandlerFunc{
		// Copy drops the context and keeps the metadata, whose traceparent
		// is the incoming message's: the process span must win.
		"copy":        func(msg *message.Message) ([]*message.Message, error) { return []*message.Message{msg.Copy()}, nil },
		"passthrough": message.PassthroughHandler,
	} {
		t.Run(name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			g := watermilltest.NewGoChannel(t, gochannel.Config{})
			r := watermilltest.NewRouter(t)
			r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
			r.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(tel.Options()...))
			r.AddHandler("forward", "in", g, "out", g, h)
			done := make(chan handled, 1)
			r.AddConsumerHandler("sink", "out", g, recordingHandler(done))
			watermilltest.StartRouter(t, r)

			ctx, root := tel.Root(context.Background(), "request")
			if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("in", message.NewMessageWithContext(ctx, "m1", nil)); err != nil {
				t.Fatal(err)
			}
			root.End()
			telemetrytest.Recv(t, done, "forwarded message")
			for _, name := range []string{"send in", "process in", "send out", "process out"} {
				tel.WaitEnded(t, name, 1)
			}
			tel.CheckChain(t, "request", "send in/producer", "process in/consumer", "send out/producer", "process out/consumer")
		})
	}
}

func TestReturnedMessagesCarryProcessSpanWithoutDecorator(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	r.AddHandler("forward", "in", g, "out", g, func(msg *message.Message) ([]*message.Message, error) {
		return []*message.Message{message.NewMessage("m2", nil)}, nil
	})
	done := make(chan handled, 1)
	r.AddConsumerHandler("sink", "out", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)

	ctx, root := tel.Root(context.Background(), "request")
	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("in", message.NewMessageWithContext(ctx, "m1", nil)); err != nil {
		t.Fatal(err)
	}
	root.End()
	telemetrytest.Recv(t, done, "forwarded message")
	proc1 := tel.WaitEnded(t, "process in", 1)[0]
	proc2 := tel.WaitEnded(t, "process out", 1)[0]
	if proc2.Parent().SpanID() != proc1.SpanContext().SpanID() || proc2.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Errorf("process out: parent %s in trace %s, want process in (%s) in trace %s",
			proc2.Parent().SpanID(), proc2.SpanContext().TraceID(), proc1.SpanContext().SpanID(), root.SpanContext().TraceID())
	}
	if n := len(tel.Ended("send out")); n != 0 {
		t.Errorf("%d send spans from an undecorated publisher", n)
	}
}

func TestReturnedMessageWithOwnSpanKeepsIt(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	r.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(tel.Options()...))
	own := make(chan trace.SpanContext, 1)
	r.AddHandler("forward", "in", g, "out", g, func(msg *message.Message) ([]*message.Message, error) {
		ctx, span := tel.TracerProvider.Tracer("test").Start(msg.Context(), "build reply")
		defer span.End()
		own <- span.SpanContext()
		return []*message.Message{message.NewMessageWithContext(ctx, "m2", nil)}, nil
	})
	done := make(chan handled, 1)
	r.AddConsumerHandler("sink", "out", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)

	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("in", message.NewMessage("m1", nil)); err != nil {
		t.Fatal(err)
	}
	telemetrytest.Recv(t, done, "forwarded message")
	ownSpan := telemetrytest.Recv(t, own, "handler span")
	send := tel.WaitEnded(t, "send out", 1)[0]
	if send.Parent().SpanID() != ownSpan.SpanID() {
		t.Errorf("send out: parent %s, want the handler's own span %s", send.Parent().SpanID(), ownSpan.SpanID())
	}
}

func TestForeignTraceparentIsContinued(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	done := make(chan handled, 1)
	r.AddConsumerHandler("h", "foreign", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)

	// Written by a producer that knows nothing of asynctrace.
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	m := message.NewMessage("f1", nil)
	m.Metadata.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
	m.Metadata.Set("baggage", "tenant=acme")
	if err := g.Publish("foreign", m); err != nil {
		t.Fatal(err)
	}
	got := telemetrytest.Recv(t, done, "foreign message")
	proc := tel.WaitEnded(t, "process foreign", 1)[0]
	if proc.SpanContext().TraceID().String() != traceID || proc.Parent().SpanID().String() != spanID || !proc.Parent().IsRemote() {
		t.Errorf("process span in trace %s with parent %s, want remote parent %s in %s",
			proc.SpanContext().TraceID(), proc.Parent().SpanID(), spanID, traceID)
	}
	if !proc.SpanContext().IsSampled() {
		t.Errorf("sampled upstream flag not respected")
	}
	if got.span.SpanID() != proc.SpanContext().SpanID() {
		t.Errorf("handler context does not carry the process span")
	}
}

func TestUnsampledUpstreamIsRespected(t *testing.T) {
	tel := telemetrytest.New(t)
	// ParentBased(AlwaysSample) is the SDK default: an unsampled parent
	// keeps the process span unsampled.
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	done := make(chan handled, 1)
	r.AddConsumerHandler("h", "unsampled", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)
	m := message.NewMessage("u1", nil)
	m.Metadata.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	if err := g.Publish("unsampled", m); err != nil {
		t.Fatal(err)
	}
	got := telemetrytest.Recv(t, done, "message")
	if got.span.IsSampled() || got.span.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("handler span %v: want the upstream trace, unsampled", got.span)
	}
	if n := len(tel.Recorder.Ended()); n != 0 {
		t.Errorf("%d spans recorded for an unsampled trace", n)
	}
}

func TestMalformedTraceparentStartsNewTraceAndAcks(t *testing.T) {
	for _, tp := range []string{"garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra-" + string(make([]byte, 9000))} {
		tel := telemetrytest.New(t)
		// Publish returns only once the message is acked; a nack would
		// redeliver it and the handler would run again.
		g := watermilltest.NewGoChannel(t, gochannel.Config{BlockPublishUntilSubscriberAck: true})
		r := watermilltest.NewRouter(t)
		r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
		var calls atomic.Int32
		r.AddConsumerHandler("h", "bad", g, func(msg *message.Message) error {
			calls.Add(1)
			return nil
		})
		watermilltest.StartRouter(t, r)

		m := message.NewMessage("b1", nil)
		m.Metadata.Set("traceparent", tp)
		published := make(chan error, 1)
		go func() { published <- g.Publish("bad", m) }()
		if err := telemetrytest.Recv(t, published, "acked publish"); err != nil {
			t.Fatal(err)
		}
		proc := tel.WaitEnded(t, "process bad", 1)[0]
		if proc.Parent().IsValid() {
			t.Errorf("traceparent %.40q: process span has parent %v, want a new root", tp, proc.Parent())
		}
		if proc.Status().Code == codes.Error {
			t.Errorf("malformed header recorded as an error: %v", proc.Status())
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("handler ran %d times, want once", n)
		}
	}
}

func TestHandlerErrorIsRecorded(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	var calls atomic.Int32
	errRejected := errors.New("rejected")
	done := make(chan struct{})
	r.AddConsumerHandler("h", "flaky", g, func(msg *message.Message) error {
		if calls.Add(1) == 1 {
			return errRejected
		}
		close(done)
		return nil
	})
	watermilltest.StartRouter(t, r)
	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("flaky", message.NewMessage("e1", nil)); err != nil {
		t.Fatal(err)
	}
	telemetrytest.Recv(t, done, "redelivered message")
	procs := tel.WaitEnded(t, "process flaky", 2)
	var failed, ok int
	for _, p := range procs {
		switch p.Status().Code {
		case codes.Error:
			failed++
			if p.Status().Description != "rejected" || telemetrytest.AttrString(p, "error.type") != "*errors.errorString" {
				t.Errorf("failed span: status %v, error.type %s", p.Status(), telemetrytest.AttrString(p, "error.type"))
			}
			if len(p.Events()) == 0 || p.Events()[0].Name != "exception" {
				t.Errorf("error not recorded as an exception event")
			}
		default:
			ok++
			telemetrytest.NoAttr(t, p, "error.type")
		}
	}
	if failed != 1 || ok != 1 {
		t.Errorf("%d failed and %d successful process spans, want 1 and 1", failed, ok)
	}
}

func TestHandlerPanicEndsSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options()...))
	var calls atomic.Int32
	done := make(chan struct{})
	r.AddConsumerHandler("h", "panics", g, func(msg *message.Message) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		close(done)
		return nil
	})
	watermilltest.StartRouter(t, r)
	if err := g.Publish("panics", message.NewMessage("p1", nil)); err != nil {
		t.Fatal(err)
	}
	telemetrytest.Recv(t, done, "redelivered message")
	procs := tel.WaitEnded(t, "process panics", 2)
	var failed int
	for _, p := range procs {
		if p.Status().Code == codes.Error {
			failed++
			if p.Status().Description != "asynctrace: handler panicked: boom" {
				t.Errorf("status %q", p.Status().Description)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed spans, want 1", failed)
	}
}

func TestLinkToProducer(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(tel.Options(asynctrace.WithLinkToProducer())...))
	done := make(chan handled, 1)
	r.AddConsumerHandler("h", "linked", g, recordingHandler(done))
	watermilltest.StartRouter(t, r)

	ctx, root := tel.Root(context.Background(), "request")
	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("linked", message.NewMessageWithContext(ctx, "l1", nil)); err != nil {
		t.Fatal(err)
	}
	root.End()
	telemetrytest.Recv(t, done, "message")
	send := tel.WaitEnded(t, "send linked", 1)[0]
	proc := tel.WaitEnded(t, "process linked", 1)[0]
	if proc.Parent().IsValid() {
		t.Errorf("linked process span has parent %v, want a new root", proc.Parent())
	}
	if proc.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Errorf("linked process span is in the producer's trace")
	}
	if len(proc.Links()) != 1 || proc.Links()[0].SpanContext.SpanID() != send.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the send span %s", proc.Links(), send.SpanContext().SpanID())
	}
}

func TestMiddlewareOutsideRouterNamesSpanAfterOperation(t *testing.T) {
	tel := telemetrytest.New(t)
	h := watermilltrace.NewMiddleware(tel.Options()...)(func(msg *message.Message) ([]*message.Message, error) {
		return nil, nil
	})
	m := &message.Message{UUID: "x"} // nil metadata, no context
	if _, err := h(m); err != nil {
		t.Fatal(err)
	}
	if len(tel.Ended("process")) != 1 {
		t.Errorf("spans %v, want one named process", telemetrytest.SpanNames(tel.Recorder.Ended()))
	}
	// Settlement the handler made itself is recorded.
	h = watermilltrace.NewMiddleware(tel.Options()...)(func(msg *message.Message) ([]*message.Message, error) {
		msg.Ack()
		return nil, nil
	})
	if _, err := h(message.NewMessage("y", nil)); err != nil {
		t.Fatal(err)
	}
	spans := tel.Ended("process")
	if got := telemetrytest.AttrString(spans[len(spans)-1], "asynctrace.message.settlement"); got != "ack" {
		t.Errorf("settlement %s, want ack", got)
	}
}

func TestHandlerGoexitEndsSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	h := watermilltrace.NewMiddleware(tel.Options()...)(func(msg *message.Message) ([]*message.Message, error) {
		runtime.Goexit()
		return nil, nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h(message.NewMessage("g1", nil))
	}()
	telemetrytest.Recv(t, done, "handler goroutine exit")
	spans := tel.Ended("process")
	if len(spans) != 1 || spans[0].Status().Code != codes.Error {
		t.Fatalf("spans %v, want one process span with an error status", telemetrytest.SpanNames(spans))
	}
	if d := spans[0].Status().Description; d != "asynctrace: handler exited without returning" {
		t.Errorf("status %q", d)
	}
}

type ctxKey struct{}

func TestReturnedMessageKeepsItsContextValuesAndGetsTrace(t *testing.T) {
	tel := telemetrytest.New(t)
	h := watermilltrace.NewMiddleware(tel.Options()...)(func(msg *message.Message) ([]*message.Message, error) {
		out := message.NewMessage("r1", nil)
		out.SetContext(context.WithValue(context.Background(), ctxKey{}, "kept"))
		return []*message.Message{out}, nil
	})
	in := message.NewMessage("i1", nil)
	in.Metadata.Set("baggage", "tenant=acme")
	produced, err := h(in)
	if err != nil || len(produced) != 1 {
		t.Fatalf("handler returned %v, %v", produced, err)
	}
	proc := tel.Ended("process")[0]
	ctx := produced[0].Context()
	if ctx.Value(ctxKey{}) != "kept" {
		t.Errorf("the returned message lost its own context values")
	}
	if trace.SpanContextFromContext(ctx).SpanID() != proc.SpanContext().SpanID() {
		t.Errorf("the returned message's context does not carry the process span")
	}
	if got := baggage.FromContext(ctx).Member("tenant").Value(); got != "acme" {
		t.Errorf("baggage tenant=%q, want acme", got)
	}
	sc := trace.SpanContextFromContext(telemetrytest.W3C.Extract(context.Background(), propagation.MapCarrier(produced[0].Metadata)))
	if sc.SpanID() != proc.SpanContext().SpanID() {
		t.Errorf("the returned message's metadata carries %s, want the process span %s", sc.SpanID(), proc.SpanContext().SpanID())
	}
}
