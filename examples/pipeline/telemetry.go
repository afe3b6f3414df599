package main

import (
	"context"
	"os"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/provider"
)

// telemetry is one service's OpenTelemetry setup.
type telemetry struct {
	*provider.Provider
}

// startTelemetry sets up OpenTelemetry for one service. Spans go over OTLP
// only when an OTLP endpoint is configured in the environment, so that the
// example needs no collector; extra adds the in-process collector in the
// single-process mode. global installs the providers as the otel globals,
// which only a process running a single service should do.
func startTelemetry(ctx context.Context, service string, global bool, extra ...provider.Option) (telemetry, error) {
	opts := []provider.Option{
		provider.WithServiceName(service),
		// The example's backends (Jaeger among them) take traces only.
		provider.WithMetricsExporter("none"),
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		opts = append(opts, provider.WithTracesExporter("none"))
	}
	if !global {
		opts = append(opts, provider.WithoutGlobals())
	}
	p, err := provider.Start(ctx, append(opts, extra...)...)
	if err != nil {
		return telemetry{}, err
	}
	return telemetry{p}, nil
}

// messagingOptions hands the service's providers to a messaging adapter.
func (t telemetry) messagingOptions(extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{
		asynctrace.WithTracerProvider(t.TracerProvider()),
		asynctrace.WithMeterProvider(t.MeterProvider()),
		asynctrace.WithPropagators(t.Propagator()),
	}, extra...)
}

// messagingSystem names the broker behind Watermill when it is known.
func messagingSystem(system string) []asynctrace.Option {
	if system == "" {
		return nil
	}
	return []asynctrace.Option{asynctrace.WithMessagingSystem(system)}
}
