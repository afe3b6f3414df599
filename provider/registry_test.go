package provider

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A span exporter registered in spanExporters is all it takes for both
// OTEL_TRACES_EXPORTER and WithTracesExporter to accept its name, for the
// error messages to list it, and for spans to reach it through a batcher.
func TestSpanExporterRegistryIsTheOnePlace(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	saved := spanExporters
	spanExporters = append(spanExporters[:len(spanExporters):len(spanExporters)], namedExporter[sdktrace.SpanExporter]{
		"memory", func(context.Context, *config) (sdktrace.SpanExporter, error) { return mem, nil },
	})
	t.Cleanup(func() { spanExporters = saved })

	_, err := Start(context.Background(), WithoutGlobals(), WithTracesExporter("zipkin"))
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "(want otlp, console, tree, memory or none)") {
		t.Errorf("unknown name: %v, want the registered names listed", err)
	}

	for _, viaEnv := range []bool{false, true} {
		opts := []Option{WithoutGlobals(), WithMetricsExporter("none")}
		if viaEnv {
			t.Setenv(envTracesExporter, "memory")
		} else {
			opts = append(opts, WithTracesExporter("memory"))
		}
		mem.Reset()
		p, err := Start(context.Background(), opts...)
		if err != nil {
			t.Fatalf("Start with a registered exporter name: %v", err)
		}
		_, span := p.TracerProvider().Tracer("registry-test").Start(context.Background(), "op")
		span.End()
		if err := p.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(mem.GetSpans()); n != 1 {
			t.Errorf("env %v: the registered exporter got %d spans, want 1", viaEnv, n)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
