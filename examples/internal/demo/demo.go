// Package demo is what the small examples share: one OpenTelemetry provider
// per service, as each service would have in production, all keeping their
// spans in one in-memory recorder so that the example can print the trace.
// When OTEL_EXPORTER_OTLP_ENDPOINT is set the spans are exported over OTLP
// as well.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/provider"
	tracetree "github.com/asynctrace/asynctrace/tracecheck"
)

// Services is a set of services whose spans are kept for printing.
type Services struct {
	rec       *tracetest.SpanRecorder
	providers []*provider.Provider
}

// NewServices returns an empty set.
func NewServices() *Services {
	return &Services{rec: tracetest.NewSpanRecorder()}
}

// Start sets up OpenTelemetry for the service called name, without touching
// the otel globals.
func (s *Services) Start(ctx context.Context, name string) (*provider.Provider, error) {
	opts := []provider.Option{
		provider.WithServiceName(name),
		provider.WithoutGlobals(),
		provider.WithSpanProcessor(s.rec),
		provider.WithMetricsExporter("none"),
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		opts = append(opts, provider.WithTracesExporter("none"))
	}
	p, err := provider.Start(ctx, opts...)
	if err != nil {
		return nil, err
	}
	s.providers = append(s.providers, p)
	return p, nil
}

// Options hands a service's providers to a messaging adapter.
func Options(p *provider.Provider, extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{
		asynctrace.WithTracerProvider(p.TracerProvider()),
		asynctrace.WithMeterProvider(p.MeterProvider()),
		asynctrace.WithPropagators(p.Propagator()),
	}, extra...)
}

// Shutdown flushes and stops every service's telemetry.
func (s *Services) Shutdown(ctx context.Context) error {
	var errs []error
	for _, p := range s.providers {
		errs = append(errs, p.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Spans returns the spans that have ended so far.
func (s *Services) Spans() []tracetree.Span {
	return tracetree.FromSDK(s.rec.Ended())
}

// Print writes the ended spans as a tree.
func (s *Services) Print(w io.Writer) error {
	return tracetree.Render(w, s.Spans())
}

// Run starts a fresh set of services, lets exchange do the example's work
// with them, shuts their telemetry down (flushing every span) and prints the
// trace to out. It returns the spans for the example's test.
func Run(ctx context.Context, out io.Writer, exchange func(context.Context, *Services, io.Writer) error) ([]tracetree.Span, error) {
	services := NewServices()
	if err := exchange(ctx, services, out); err != nil {
		_ = services.Shutdown(context.Background())
		return nil, err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := services.Shutdown(shutdownCtx); err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	return services.Spans(), services.Print(out)
}
