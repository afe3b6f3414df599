package pubsubtrace_test

import (
	"context"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// useGlobal installs tel's tracer provider globally for the client's
// built-in tracing, which reads only the global, and restores the old one.
func useGlobal(t *testing.T, tel *telemetrytest.Telemetry) {
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tel.TracerProvider)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
}

var builtIn = &pubsub.ClientConfig{EnableOpenTelemetryTracing: true}

func byName(tb testing.TB, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	tb.Helper()
	var found sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			if found != nil {
				tb.Fatalf("two %q spans", name)
			}
			found = s
		}
	}
	if found == nil {
		tb.Fatalf("no %q span among %v", name, telemetrytest.SpanNames(spans))
	}
	return found
}

// A message from a publisher that uses only the built-in tracing
// (googclient_traceparent) is continued by WrapHandler.
func TestInteropBuiltInPublisherToWrapHandler(t *testing.T) {
	tel := telemetrytest.New(t)
	useGlobal(t, tel)
	f := newFake(t, nil)
	pubClient := f.newClient(t, builtIn)
	raw := pubClient.Publisher(topicName)
	id, err := raw.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background())
	raw.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if f.srv.Message(id).Attributes["googclient_traceparent"] == "" {
		t.Fatalf("built-in tracing wrote no googclient_traceparent: %v", f.srv.Message(id).Attributes)
	}
	f.receiveWith(t, 1, wrapWith(f, tel.Options()...), func(ctx context.Context, m *pubsub.Message) {
		pubsubtrace.Ack(ctx, m)
	})
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	create := tel.WaitEnded(t, topicID+" create", 1)[0]
	if p.Parent().SpanID() != create.SpanContext().SpanID() || p.SpanContext().TraceID() != create.SpanContext().TraceID() {
		t.Fatalf("process span's parent = %s, want the built-in create span %s", p.Parent().SpanID(), create.SpanContext().SpanID())
	}
}

// A message published through Publisher with WithGoogleClientKeys is
// continued by a subscriber that uses only the built-in tracing; without the
// option it is not.
func TestInteropPublisherToBuiltInSubscriber(t *testing.T) {
	for _, withKeys := range []bool{true, false} {
		name := "without WithGoogleClientKeys"
		var opts []asynctrace.Option
		if withKeys {
			name = "with WithGoogleClientKeys"
			opts = append(opts, pubsubtrace.WithGoogleClientKeys())
		}
		t.Run(name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			useGlobal(t, tel)
			f := newFake(t, nil)
			pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options(opts...)...)
			attrs := map[string]string{"a": "b"}
			id, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x"), Attributes: attrs}).Get(context.Background())
			pub.Stop()
			if err != nil {
				t.Fatal(err)
			}
			if len(attrs) != 1 {
				t.Fatalf("caller's map changed: %v", attrs)
			}
			stored := f.srv.Message(id).Attributes
			if got := stored["googclient_traceparent"] != ""; got != withKeys {
				t.Fatalf("googclient_traceparent written = %v, want %v (%v)", got, withKeys, stored)
			}
			subClient := f.newClient(t, builtIn)
			receiveOn(t, subClient, 1, nil, func(_ context.Context, m *pubsub.Message) { m.Ack() })
			send := tel.WaitEnded(t, "send "+topicID, 1)[0]
			subscribe := tel.WaitEnded(t, subID+" subscribe", 1)[0]
			continued := subscribe.SpanContext().TraceID() == send.SpanContext().TraceID() &&
				subscribe.Parent().SpanID() == send.SpanContext().SpanID()
			if continued != withKeys {
				t.Fatalf("built-in subscribe span continued the send span: %v, want %v", continued, withKeys)
			}
		})
	}
}

// Built-in tracing on at both ends plus asynctrace: one trace, our process
// span a child of our send span, the built-in spans beside ours in the same
// trace, no span with two parents or a parent in another trace.
func TestInteropBuiltInBothEndsPlusAsynctrace(t *testing.T) {
	tel := telemetrytest.New(t)
	useGlobal(t, tel)
	f := newFake(t, nil)
	pubClient := f.newClient(t, builtIn)
	pub := pubsubtrace.WrapPublisher(pubClient.Publisher(topicName), tel.Options()...)
	ctx, root := tel.TracerProvider.Tracer("test").Start(context.Background(), "request")
	attrs := map[string]string{"a": "b"}
	msg := &pubsub.Message{Data: []byte("x"), Attributes: attrs}
	id, err := pub.Publish(ctx, msg).Get(ctx)
	root.End()
	pub.Stop()
	if err != nil {
		t.Fatal(err)
	}
	// The built-in tracing replaces the attributes of the message it is
	// given: that is the copy, not the caller's message.
	if len(attrs) != 1 || len(msg.Attributes) != 1 || msg.Attributes["a"] != "b" {
		t.Fatalf("caller's message changed: %v", msg.Attributes)
	}
	stored := f.srv.Message(id).Attributes
	if stored["traceparent"] == "" || stored["googclient_traceparent"] == "" {
		t.Fatalf("stored attributes %v, want both traceparent keys", stored)
	}

	subClient := f.newClient(t, builtIn)
	sub := subClient.Subscriber(subName)
	var ambientInHandler trace.SpanContext
	receiveOn(t, subClient, 1, func(h pubsubtrace.Handler) pubsubtrace.Handler {
		return pubsubtrace.WrapHandler(sub, h, tel.Options()...)
	}, func(ctx context.Context, m *pubsub.Message) {
		ambientInHandler = trace.SpanContextFromContext(ctx)
		pubsubtrace.Ack(ctx, m)
	})
	tel.WaitEnded(t, subID+" process", 1) // the built-in one ends on Ack
	tel.WaitEnded(t, "process "+subID, 1)
	spans := tel.Recorder.Ended()

	send := byName(t, spans, "send "+topicID)
	ours := byName(t, spans, "process "+subID)
	create := byName(t, spans, topicID+" create")
	subscribe := byName(t, spans, subID+" subscribe")
	builtInProcess := byName(t, spans, subID+" process")

	traceID := root.SpanContext().TraceID()
	for _, s := range []sdktrace.ReadOnlySpan{send, ours, create, subscribe, builtInProcess} {
		if s.SpanContext().TraceID() != traceID {
			t.Errorf("%q is in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), traceID)
		}
	}
	if send.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Error("send span is not a child of the request")
	}
	if create.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Error("built-in create span is not a child of our send span")
	}
	if subscribe.Parent().SpanID() != create.SpanContext().SpanID() {
		t.Error("built-in subscribe span is not a child of the create span")
	}
	if ours.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Errorf("our process span's parent = %s, want our send span", ours.Parent().SpanID())
	}
	if !telemetrytest.HasLinkTo(ours, builtInProcess.SpanContext()) {
		t.Error("our process span does not link the built-in process span it ran in")
	}
	if ambientInHandler.SpanID() != ours.SpanContext().SpanID() {
		t.Error("the handler's ctx does not carry our process span")
	}
}
