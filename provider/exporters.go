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
)

// newSpanProcessors builds one processor per configured span exporter plus
// the caller's own processors. Nothing here touches the network: exporters
// connect on their first export, so an unreachable collector never delays
// Start.
func newSpanProcessors(ctx context.Context, c *config) ([]sdktrace.SpanProcessor, error) {
	names, err := exporterNames(envTracesExporter, c.traces, "WithTracesExporter", builtinExporters)
	if err != nil {
		return nil, err
	}
	batch, err := spanBatchConfig()
	if err != nil {
		return nil, err
	}
	var procs []sdktrace.SpanProcessor
	for _, name := range names {
		switch name {
		case exporterOTLP:
			exp, err := newOTLPSpanExporter(ctx, c)
			if err != nil {
				shutdownProcessors(ctx, procs)
				return nil, err
			}
			procs = append(procs, newBatchSpanProcessor("otlp exporter", exp, batch))
		case exporterConsole:
			exp, err := stdouttrace.New(stdouttrace.WithWriter(consoleWriter(c)), stdouttrace.WithPrettyPrint())
			if err != nil {
				shutdownProcessors(ctx, procs)
				return nil, fmt.Errorf("provider: console span exporter: %w", err)
			}
			// Batched like any other: a stalled terminal must not stall
			// the code that ends spans.
			procs = append(procs, newBatchSpanProcessor("console exporter", exp, batch))
		}
	}
	for _, exp := range c.spanExporters {
		procs = append(procs, newBatchSpanProcessor("WithSpanExporter", exp, batch))
	}
	return append(procs, c.spanProcessors...), nil
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
