package propagators_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/propagators"
)

var sc = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{1},
	SpanID:     trace.SpanID{2},
	TraceFlags: trace.FlagsSampled,
})

func injected(p propagation.TextMapPropagator) propagation.MapCarrier {
	c := propagation.MapCarrier{}
	p.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	return c
}

// The tests run in order: the first sees OpenTelemetry's own global, the
// later ones install theirs.
func TestW3CWhileNoGlobalIsInstalled(t *testing.T) {
	if c := injected(propagators.Global()); c["traceparent"] == "" {
		t.Fatalf("with no global propagator installed nothing was injected: %v", c)
	}
	if c := injected(propagators.Dynamic{}); c["traceparent"] == "" {
		t.Fatalf("Dynamic injected nothing: %v", c)
	}
	if c := injected(otel.GetTextMapPropagator()); len(c) != 0 {
		t.Fatalf("OpenTelemetry's default global injected %v; the test no longer shows the fallback", c)
	}
}

func TestAnInstalledGlobalWins(t *testing.T) {
	defer otel.SetTextMapPropagator(otel.GetTextMapPropagator())
	otel.SetTextMapPropagator(propagation.Baggage{})
	if c := injected(propagators.Global()); len(c) != 0 {
		t.Fatalf("with a baggage-only global propagator, %v was injected", c)
	}
	if c := injected(propagators.Dynamic{}); len(c) != 0 {
		t.Fatalf("Dynamic ignored the installed global: %v", c)
	}
}

func TestAnOptionWins(t *testing.T) {
	if got := propagators.Resolve(propagation.Baggage{}); got != (propagation.Baggage{}) {
		t.Fatalf("Resolve replaced the given propagator with %T", got)
	}
	if got := propagators.Resolve(nil); got == nil {
		t.Fatal("Resolve(nil) returned nil")
	}
}
