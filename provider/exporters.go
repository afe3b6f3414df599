package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/asynctrace/asynctrace/tracecheck"
)

// spanExporters is the one place where span exporters are chosen by name.
// OTEL_TRACES_EXPORTER and WithTracesExporter accept exactly these names,
// plus "none"; validation and error messages follow this list, and each
// exporter named gets a batch span processor of its own. Supporting a new
// name takes one entry here (and a line in the package documentation).
var spanExporters = []namedExporter[sdktrace.SpanExporter]{
	{exporterOTLP, newOTLPSpanExporter},
	{exporterConsole, newConsoleSpanExporter},
	{exporterTree, newTreeSpanExporter},
}

// namedExporter is an exporter that OTEL_*_EXPORTER can name. build must not
// touch the network, so that an unreachable collector never delays Start.
type namedExporter[E any] struct {
	name  string
	build func(context.Context, *config) (E, error)
}

// registered lists the names in a registry.
func registered[E any](registry []namedExporter[E]) []string {
	names := make([]string, len(registry))
	for i, e := range registry {
		names[i] = e.name
	}
	return names
}

// buildNamed builds the exporter registered under name, which exporterNames
// has already checked against the registry.
func buildNamed[E any](ctx context.Context, c *config, registry []namedExporter[E], name string) (E, error) {
	for _, e := range registry {
		if e.name == name {
			return e.build(ctx, c)
		}
	}
	var zero E
	return zero, fmt.Errorf("provider: no exporter registered as %q", name)
}

// newSpanProcessors builds one batch processor per span exporter named by
// OTEL_TRACES_EXPORTER (or WithTracesExporter) and per WithSpanExporter,
// plus the caller's own processors.
func newSpanProcessors(ctx context.Context, c *config) ([]sdktrace.SpanProcessor, error) {
	names, err := exporterNames(envTracesExporter, c.traces, "WithTracesExporter", registered(spanExporters))
	if err != nil {
		return nil, err
	}
	batch, err := spanBatchConfig()
	if err != nil {
		return nil, err
	}
	var procs []sdktrace.SpanProcessor
	for _, name := range names {
		exp, err := buildNamed(ctx, c, spanExporters, name)
		if err != nil {
			shutdownProcessors(ctx, procs)
			return nil, err
		}
		// Batched, console included: a stalled terminal must not stall the
		// code that ends spans.
		procs = append(procs, newBatchSpanProcessor(name+" exporter", exp, batch))
	}
	for _, exp := range c.spanExporters {
		procs = append(procs, newBatchSpanProcessor("WithSpanExporter", exp, batch))
	}
	return append(procs, c.spanProcessors...), nil
}

func newConsoleSpanExporter(_ context.Context, c *config) (sdktrace.SpanExporter, error) {
	exp, err := stdouttrace.New(stdouttrace.WithWriter(consoleWriter(c)), stdouttrace.WithPrettyPrint())
	if err != nil {
		return nil, fmt.Errorf("provider: console span exporter: %w", err)
	}
	return exp, nil
}

// newTreeSpanExporter prints traces as trees to the console writer: one
// block per trace (this service's part of it), a line per span.
func newTreeSpanExporter(_ context.Context, c *config) (sdktrace.SpanExporter, error) {
	return tracecheck.NewTreeExporter(consoleWriter(c)), nil
}

func newOTLPSpanExporter(ctx context.Context, c *config) (sdktrace.SpanExporter, error) {
	t, err := resolveOTLP(signalTraces, c)
	if err != nil {
		return nil, err
	}
	var exp sdktrace.SpanExporter
	if t.protocol == protocolGRPC {
		var opts []otlptracegrpc.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(t.codeHeaders))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	} else {
		var opts []otlptracehttp.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlptracehttp.WithHeaders(t.codeHeaders))
		}
		if t.protocol == protocolHTTPJSON {
			// Also correct when the protocol came from the environment,
			// which the exporter reads as well.
			opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: OTLP span exporter: %w", err)
	}
	return exp, nil
}

func shutdownProcessors(ctx context.Context, procs []sdktrace.SpanProcessor) {
	for _, p := range procs {
		_ = p.Shutdown(ctx)
	}
}

// consoleWriter returns the writer of the console exporters. The three
// signals export from goroutines of their own; one lock keeps their JSON
// documents whole and spares the caller's writer concurrent calls.
func consoleWriter(c *config) io.Writer {
	if c.console == nil {
		w := c.consoleWriter
		if w == nil {
			w = os.Stdout
		}
		c.console = &lockedWriter{w: w}
	}
	return c.console
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// onceSpanProcessor makes Shutdown idempotent: Provider.Shutdown shuts each
// processor down itself and then TracerProvider.Shutdown calls it again.
type onceSpanProcessor struct {
	sdktrace.SpanProcessor
	once sync.Once
	err  error
}

func (p *onceSpanProcessor) Shutdown(ctx context.Context) error {
	p.once.Do(func() { p.err = p.SpanProcessor.Shutdown(ctx) })
	return p.err
}
