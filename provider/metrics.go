package provider

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// metricExporters lists the metric exporters that OTEL_METRICS_EXPORTER and
// WithMetricsExporter can name, besides "none"; see spanExporters.
var metricExporters = []namedExporter[sdkmetric.Exporter]{
	{exporterOTLP, newOTLPMetricExporter},
	{exporterConsole, newConsoleMetricExporter},
}

// newMeterProvider builds the meter provider with one periodic reader per
// exporter named by OTEL_METRICS_EXPORTER (or WithMetricsExporter) plus the
// caller's readers. With no reader at all it returns the no-op provider, so
// instruments cost nothing. shutdown is nil for the no-op provider.
func newMeterProvider(ctx context.Context, c *config, res *resource.Resource) (mp metric.MeterProvider, shutdown *sdkmetric.MeterProvider, err error) {
	names, err := exporterNames(envMetricsExporter, c.metrics, "WithMetricsExporter", registered(metricExporters))
	if err != nil {
		return nil, nil, err
	}
	var readers []sdkmetric.Reader
	for _, name := range names {
		exp, err := buildNamed(ctx, c, metricExporters, name)
		if err != nil {
			for _, r := range readers {
				_ = r.Shutdown(ctx)
			}
			return nil, nil, err
		}
		readers = append(readers, sdkmetric.NewPeriodicReader(countingExporter{exp}, periodicOptions(c)...))
	}
	readers = append(readers, c.metricReaders...)
	if len(readers) == 0 {
		return metricnoop.NewMeterProvider(), nil, nil
	}
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	sdk := sdkmetric.NewMeterProvider(opts...)
	return sdk, sdk, nil
}

// periodicOptions passes WithMetricInterval only when the environment is
// silent, because the reader lets code override OTEL_METRIC_EXPORT_INTERVAL.
func periodicOptions(c *config) []sdkmetric.PeriodicReaderOption {
	if _, set := lookupEnv(envMetricInterval); set || c.metricInterval <= 0 {
		return nil
	}
	return []sdkmetric.PeriodicReaderOption{sdkmetric.WithInterval(c.metricInterval)}
}

func newConsoleMetricExporter(_ context.Context, c *config) (sdkmetric.Exporter, error) {
	exp, err := stdoutmetric.New(stdoutmetric.WithWriter(consoleWriter(c)), stdoutmetric.WithPrettyPrint())
	if err != nil {
		return nil, fmt.Errorf("provider: console metric exporter: %w", err)
	}
	return exp, nil
}

func newOTLPMetricExporter(ctx context.Context, c *config) (sdkmetric.Exporter, error) {
	t, err := resolveOTLP(signalMetrics, c)
	if err != nil {
		return nil, err
	}
	var exp sdkmetric.Exporter
	if t.protocol == protocolGRPC {
		var opts []otlpmetricgrpc.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlpmetricgrpc.WithHeaders(t.codeHeaders))
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	} else {
		var opts []otlpmetrichttp.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlpmetrichttp.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlpmetrichttp.WithHeaders(t.codeHeaders))
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: OTLP metric exporter: %w", err)
	}
	return exp, nil
}

// countingExporter says how much an export that failed took down with it;
// the final export at Shutdown fails this way when Shutdown's context ends.
type countingExporter struct {
	sdkmetric.Exporter
}

func (e countingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	if err == nil {
		return nil
	}
	n := 0
	for _, sm := range rm.ScopeMetrics {
		n += len(sm.Metrics)
	}
	return fmt.Errorf("%s not exported: %w", count(n, [2]string{"metric", "metrics"}), err)
}
