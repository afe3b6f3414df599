package pubsubtrace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// publishAndReceive publishes one message with baggage tenant=acme inside a
// root span, receives it with WrapHandler, and returns the root span, the
// stored attributes and the baggage the handler saw. opts go to both ends;
// built, when not nil, is called once both are built.
func publishAndReceive(t *testing.T, tel *telemetrytest.Telemetry, built func(), opts ...asynctrace.Option) (root trace.Span, stored map[string]string, gotBaggage string) {
	t.Helper()
	f := newFake(t, nil)
	pub := pubsubtrace.WrapPublisher(f.publisher(), opts...)
	wrap := wrapWith(f, opts...)
	if built != nil {
		built()
	}
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, root := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
	id, err := pub.Publish(ctx, &pubsub.Message{Data: []byte("x")}).Get(ctx)
	root.End()
	pub.Stop()
	if err != nil {
		t.Fatal(err)
	}
	f.receiveWith(t, 1, wrap, func(ctx context.Context, m *pubsub.Message) {
		gotBaggage = baggage.FromContext(ctx).Member("tenant").Value()
		pubsubtrace.Ack(ctx, m)
	})
	return root, f.srv.Message(id).Attributes, gotBaggage
}

// With a tracer provider alone, no propagator given and none installed,
// the trace and its baggage still cross the broker, in W3C Trace Context
// and Baggage.
func TestContextFlowsWithOnlyTracerProvider(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	root, stored, gotBaggage := publishAndReceive(t, tel, nil, asynctrace.WithTracerProvider(tel.TracerProvider))

	send := tel.One(t, "send "+topicID)
	proc := tel.WaitEnded(t, "process "+subID, 1)[0]
	if send.SpanContext().TraceID() != root.SpanContext().TraceID() || proc.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Fatalf("send in trace %s, process in %s, want both in the request's trace %s",
			send.SpanContext().TraceID(), proc.SpanContext().TraceID(), root.SpanContext().TraceID())
	}
	if proc.Parent().SpanID() != send.SpanContext().SpanID() || !proc.Parent().IsRemote() {
		t.Fatalf("process span's parent = %v, want the send span %s", proc.Parent(), send.SpanContext().SpanID())
	}
	want := "00-" + send.SpanContext().TraceID().String() + "-" + send.SpanContext().SpanID().String() + "-01"
	if stored["traceparent"] != want || stored["baggage"] != "tenant=acme" {
		t.Fatalf("stored attributes %v, want traceparent %q and baggage tenant=acme", stored, want)
	}
	if gotBaggage != "acme" {
		t.Fatalf("handler saw baggage tenant=%q, want acme", gotBaggage)
	}
}

// The push endpoint continues a pushed traceparent with a tracer provider
// alone.
func TestPushContinuesTraceWithOnlyTracerProvider(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	var gotBaggage string
	srv := httptest.NewServer(pubsubtrace.NewPushHandler(func(ctx context.Context, _ *pubsubtrace.PushMessage) error {
		gotBaggage = baggage.FromContext(ctx).Member("tenant").Value()
		return nil
	}, asynctrace.WithTracerProvider(tel.TracerProvider)))
	defer srv.Close()
	res := post(t, srv.URL, "application/json", pushEnvelope(map[string]string{
		"traceparent": "00-" + pushTraceID + "-" + pushSpanID + "-01",
		"baggage":     "tenant=acme",
	}))
	if res.status != http.StatusNoContent {
		t.Fatalf("status %d %q", res.status, res.body)
	}
	p := tel.One(t, "process "+subID)
	if p.SpanContext().TraceID().String() != pushTraceID || p.Parent().SpanID().String() != pushSpanID {
		t.Fatalf("process span in trace %s with parent %s, want %s/%s", p.SpanContext().TraceID(), p.Parent().SpanID(), pushTraceID, pushSpanID)
	}
	if gotBaggage != "acme" {
		t.Fatalf("handler saw baggage tenant=%q, want acme", gotBaggage)
	}
}

// wantOnlyBaggageCarried checks the outcome of a publish and receive whose
// propagator is Baggage alone: the baggage crosses, the trace does not.
func wantOnlyBaggageCarried(t *testing.T, tel *telemetrytest.Telemetry, root trace.Span, stored map[string]string, gotBaggage string) {
	t.Helper()
	if _, ok := stored["traceparent"]; ok || stored["baggage"] != "tenant=acme" {
		t.Fatalf("stored attributes %v, want baggage and no traceparent", stored)
	}
	if gotBaggage != "acme" {
		t.Fatalf("handler saw baggage tenant=%q, want acme", gotBaggage)
	}
	proc := tel.WaitEnded(t, "process "+subID, 1)[0]
	if proc.Parent().IsValid() || proc.SpanContext().TraceID() == root.SpanContext().TraceID() {
		t.Fatalf("process span continued the trace (parent %v) without a trace propagator", proc.Parent())
	}
}

// A propagator given as an option replaces the W3C default.
func TestPropagatorOptionWins(t *testing.T) {
	telemetrytest.RequireDefaultGlobalPropagator(t)
	tel := telemetrytest.New(t)
	root, stored, gotBaggage := publishAndReceive(t, tel, nil,
		asynctrace.WithTracerProvider(tel.TracerProvider), asynctrace.WithPropagators(propagation.Baggage{}))
	wantOnlyBaggageCarried(t, tel, root, stored, gotBaggage)
}

// A propagator installed globally replaces the W3C default, even when it is
// installed after the wrappers were built.
func TestGlobalPropagatorWins(t *testing.T) {
	if !telemetrytest.Isolated(t) {
		return
	}
	tel := telemetrytest.New(t)
	root, stored, gotBaggage := publishAndReceive(t, tel, func() { telemetrytest.InstallGlobalPropagator(t, propagation.Baggage{}) },
		asynctrace.WithTracerProvider(tel.TracerProvider))
	wantOnlyBaggageCarried(t, tel, root, stored, gotBaggage)
}
