package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/asynctrace/asynctrace/provider"
	"github.com/asynctrace/asynctrace/tracecheck"
)

// services is the OpenTelemetry set-up of the services this program plays:
// one provider per service, as each would have in production, all keeping
// their spans in one recorder so that the program can print the trace they
// share. With OTEL_EXPORTER_OTLP_ENDPOINT set, the spans go to that
// collector as well.
type services struct {
	rec       *tracecheck.Recorder
	providers []*provider.Provider
}

func newServices() *services { return &services{rec: tracecheck.NewRecorder()} }

// start sets up the service called name, without touching the otel
// globals: hand its p.Options() to the adapters it uses.
func (s *services) start(ctx context.Context, name string) (*provider.Provider, error) {
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

// finish shuts every service's telemetry down, which ends and flushes its
// spans, prints the trace to out and returns its spans.
func (s *services) finish(out io.Writer) ([]tracecheck.Span, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range s.providers {
		errs = append(errs, p.Shutdown(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	spans := s.rec.Spans()
	return spans, tracecheck.Render(out, spans)
}
