package provider_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Start with a console exporter, as during local development: spans,
// metrics and logs are printed as JSON instead of being sent to a collector.
func Example() {
	ctx := context.Background()
	var console bytes.Buffer
	p, err := provider.Start(ctx,
		provider.WithServiceName("checkout"),
		provider.WithConsoleExporter(&console),
		provider.WithoutGlobals(),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, span := p.TracerProvider().Tracer("example").Start(ctx, "charge card")
	span.End()
	if err := p.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.Contains(console.String(), `"Name": "charge card"`))
	// Output: true
}

// Tests can swap OTLP for an in-memory exporter and keep the rest of the
// set-up, resource included.
func Example_inMemory() {
	ctx := context.Background()
	mem := tracetest.NewInMemoryExporter()
	p, err := provider.Start(ctx,
		provider.WithServiceName("checkout"),
		provider.WithTracesExporter("none"),
		provider.WithMetricsExporter("none"),
		provider.WithSpanExporter(mem),
		provider.WithoutGlobals(),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Shutdown(ctx)

	_, span := p.TracerProvider().Tracer("example").Start(ctx, "send orders")
	span.End()
	_ = p.ForceFlush(ctx)

	for _, s := range mem.GetSpans() {
		svc, _ := s.Resource.Set().Value("service.name")
		fmt.Println(s.Name, svc.AsString())
	}
	// Output: send orders checkout
}

// Bad configuration is reported by Start, naming the culprit.
func ExampleStart_invalidConfiguration() {
	_, err := provider.Start(context.Background(), provider.WithSampleRatio(10), provider.WithoutGlobals())
	fmt.Println(errors.Is(err, provider.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// provider: invalid configuration: WithSampleRatio: sample ratio 10 is outside [0, 1]
}

// The propagator carries the trace on to the next hop.
func ExampleProvider_Propagator() {
	ctx := context.Background()
	p, err := provider.Start(ctx, provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"), provider.WithoutGlobals())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Shutdown(ctx)

	ctx, span := p.TracerProvider().Tracer("example").Start(ctx, "publish")
	defer span.End()
	headers := propagation.MapCarrier{}
	p.Propagator().Inject(ctx, headers)
	fmt.Println(headers.Get("traceparent") == "00-"+span.SpanContext().TraceID().String()+"-"+span.SpanContext().SpanID().String()+"-01")
	// Output: true
}

// With WithLogs, slog records become OpenTelemetry log records that carry
// the trace and span of the context they were logged with.
func ExampleProvider_LogHandler() {
	ctx := context.Background()
	var console bytes.Buffer
	p, err := provider.Start(ctx,
		provider.WithServiceName("checkout"),
		provider.WithLogs(),
		provider.WithConsoleExporter(&console),
		provider.WithoutGlobals(),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(p.LogHandler())

	ctx, span := p.TracerProvider().Tracer("example").Start(ctx, "charge card")
	logger.InfoContext(ctx, "card declined", "order", "o-17")
	span.End()
	_ = p.Shutdown(ctx)

	out := console.String()
	fmt.Println(strings.Contains(out, `"Value": "card declined"`), strings.Contains(out, span.SpanContext().TraceID().String()))
	// Output: true true
}
