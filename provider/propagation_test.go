package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const incomingTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestSDKDisabledKeepsContextFlowing(t *testing.T) {
	resetGlobals(t)
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
	t.Setenv("OTEL_SDK_DISABLED", "true")
	mem := tracetest.NewInMemoryExporter()
	rec := tracetest.NewSpanRecorder()
	p := start(t, provider.WithServiceName("checkout"), provider.WithSpanExporter(mem), provider.WithSpanProcessor(rec), provider.WithLogs())

	// A request arrives carrying a sampled W3C trace context.
	in := propagation.MapCarrier{"traceparent": incomingTraceparent, "baggage": "tenant=acme"}
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), in)
	ctx, span := otel.Tracer("disabled-test").Start(ctx, "handle")
	if span.IsRecording() {
		t.Error("span records with the SDK disabled")
	}
	ctr, _ := otel.Meter("disabled-test").Int64Counter("requests")
	ctr.Add(ctx, 1)
	p.LogHandler() // no-op, must not panic
	// The outgoing call carries the incoming trace on.
	out := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, out)
	span.End()

	if got := out.Get("traceparent"); got != incomingTraceparent {
		t.Errorf("outgoing traceparent = %q, want the incoming %q", got, incomingTraceparent)
	}
	if got := out.Get("baggage"); got != "tenant=acme" {
		t.Errorf("outgoing baggage = %q", got)
	}
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	shutdown(t, p)
	if n := len(mem.GetSpans()) + len(rec.Ended()) + len(rec.Started()); n != 0 {
		t.Errorf("%d spans recorded with the SDK disabled", n)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d export requests with the SDK disabled", n)
	}
	if p.Resource() != nil {
		t.Error("resource detected with the SDK disabled")
	}
	if fields := strings.Join(p.Propagator().Fields(), ","); !strings.Contains(fields, "traceparent") {
		t.Errorf("propagator fields %q", fields)
	}
}

func TestPropagatorsFromEnv(t *testing.T) {
	t.Setenv("OTEL_PROPAGATORS", "b3")
	p := start(t, provider.WithoutGlobals(), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"))
	ctx, span := p.TracerProvider().Tracer("b3-test").Start(context.Background(), "op")
	defer span.End()
	out := propagation.MapCarrier{}
	p.Propagator().Inject(ctx, out)
	sc := span.SpanContext()
	want := sc.TraceID().String() + "-" + sc.SpanID().String() + "-1"
	if got := out.Get("b3"); got != want {
		t.Errorf("b3 header = %q, want %q (carrier %v)", got, want, out)
	}
	if _, ok := out["traceparent"]; ok {
		t.Errorf("traceparent injected although OTEL_PROPAGATORS=b3: %v", out)
	}
	// Extraction goes through b3 too.
	got := trace.SpanContextFromContext(p.Propagator().Extract(context.Background(), out))
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsSampled() {
		t.Errorf("extracted %v, want %v", got, sc)
	}
}

func TestDefaultPropagatorAndGlobals(t *testing.T) {
	resetGlobals(t)
	srv := newServer(t)
	p := start(t, provider.WithEndpoint(srv.URL()), provider.WithMetricsExporter("none"))
	if otel.GetTracerProvider() != p.TracerProvider() || otel.GetMeterProvider() != p.MeterProvider() {
		t.Fatal("Start did not install the global providers")
	}
	m, _ := baggage.NewMember("tenant", "acme")
	b, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(context.Background(), b)
	ctx, span := otel.Tracer("globals-test").Start(ctx, "op")
	out := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, out)
	span.End()
	sc := span.SpanContext()
	if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"; out.Get("traceparent") != want {
		t.Errorf("traceparent = %q, want %q", out.Get("traceparent"), want)
	}
	if out.Get("baggage") != "tenant=acme" {
		t.Errorf("baggage = %q", out.Get("baggage"))
	}
	shutdown(t, p)
	if _, err := srv.WaitSpans(waitCtx(t), 1); err != nil {
		t.Fatalf("span from the global tracer did not arrive: %v", err)
	}
}

func TestWithoutGlobalsLeavesGlobalsAlone(t *testing.T) {
	resetGlobals(t)
	otel.SetTextMapPropagator(propagation.Baggage{})
	before := otel.GetTracerProvider()
	p := start(t, provider.WithoutGlobals(), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"))
	if otel.GetTracerProvider() != before {
		t.Error("WithoutGlobals changed the global tracer provider")
	}
	if got := strings.Join(otel.GetTextMapPropagator().Fields(), ","); got != "baggage" {
		t.Errorf("WithoutGlobals changed the global propagator: fields %q", got)
	}
	if otel.GetTracerProvider() == p.TracerProvider() {
		t.Error("global tracer provider is the provider's")
	}
}

func TestWithPropagatorDefaultAndEnvOverride(t *testing.T) {
	custom := propagation.Baggage{}
	p := start(t, provider.WithoutGlobals(), provider.WithPropagators(custom), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"))
	if got := strings.Join(p.Propagator().Fields(), ","); got != "baggage" {
		t.Errorf("fields with WithPropagators = %q, want baggage", got)
	}
	t.Setenv("OTEL_PROPAGATORS", "tracecontext")
	p2 := start(t, provider.WithoutGlobals(), provider.WithPropagators(custom), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"))
	if got := strings.Join(p2.Propagator().Fields(), ","); got != "traceparent,tracestate" {
		t.Errorf("fields with OTEL_PROPAGATORS = %q, want traceparent,tracestate", got)
	}
}
