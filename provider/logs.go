package provider

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// logExporters lists the log exporters that OTEL_LOGS_EXPORTER and
// WithLogsExporter can name, besides "none"; see spanExporters.
var logExporters = []namedExporter[sdklog.Exporter]{
	{exporterOTLP, newOTLPLogExporter},
	{exporterConsole, newConsoleLogExporter},
}

// newLoggerProvider builds the logger provider when WithLogs was given, with
// one batch processor per exporter named by OTEL_LOGS_EXPORTER (or
// WithLogsExporter). Without WithLogs, or with no exporter, it returns the
// no-op provider; shutdown is then nil.
func newLoggerProvider(ctx context.Context, c *config, res *resource.Resource) (lp log.LoggerProvider, shutdown *sdklog.LoggerProvider, procs []sdklog.Processor, err error) {
	if !c.logsEnabled {
		return lognoop.NewLoggerProvider(), nil, nil, nil
	}
	names, err := exporterNames(envLogsExporter, c.logs, "WithLogsExporter", registered(logExporters))
	if err != nil {
		return nil, nil, nil, err
	}
	batch, err := logBatchConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	for _, name := range names {
		exp, err := buildNamed(ctx, c, logExporters, name)
		if err != nil {
			for _, p := range procs {
				_ = p.Shutdown(ctx)
			}
			return nil, nil, nil, err
		}
		procs = append(procs, newBatchLogProcessor(name+" exporter", exp, batch))
	}
	if len(procs) == 0 {
		return lognoop.NewLoggerProvider(), nil, nil, nil
	}
	opts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
	for _, p := range procs {
		opts = append(opts, sdklog.WithProcessor(p))
	}
	sdk := sdklog.NewLoggerProvider(opts...)
	return sdk, sdk, procs, nil
}

func newConsoleLogExporter(_ context.Context, c *config) (sdklog.Exporter, error) {
	exp, err := stdoutlog.New(stdoutlog.WithWriter(consoleWriter(c)), stdoutlog.WithPrettyPrint())
	if err != nil {
		return nil, fmt.Errorf("provider: console log exporter: %w", err)
	}
	return exp, nil
}

func newOTLPLogExporter(ctx context.Context, c *config) (sdklog.Exporter, error) {
	t, err := resolveOTLP(signalLogs, c)
	if err != nil {
		return nil, err
	}
	var exp sdklog.Exporter
	if t.protocol == protocolGRPC {
		var opts []otlploggrpc.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlploggrpc.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlploggrpc.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlploggrpc.WithHeaders(t.codeHeaders))
		}
		exp, err = otlploggrpc.New(ctx, opts...)
	} else {
		var opts []otlploghttp.Option
		if t.codeEndpoint != "" {
			opts = append(opts, otlploghttp.WithEndpointURL(t.codeEndpoint))
		}
		if t.codeInsecure {
			opts = append(opts, otlploghttp.WithInsecure())
		}
		if t.codeHeaders != nil {
			opts = append(opts, otlploghttp.WithHeaders(t.codeHeaders))
		}
		exp, err = otlploghttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: OTLP log exporter: %w", err)
	}
	return exp, nil
}
