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

// newLoggerProvider builds the logger provider when WithLogs was given, with
// one processor per exporter named by OTEL_LOGS_EXPORTER (or
// WithLogsExporter). Without WithLogs, or with no exporter, it returns the
// no-op provider; shutdown is then nil.
func newLoggerProvider(ctx context.Context, c *config, res *resource.Resource) (lp log.LoggerProvider, shutdown *sdklog.LoggerProvider, procs []sdklog.Processor, err error) {
	if !c.logsEnabled {
		return lognoop.NewLoggerProvider(), nil, nil, nil
	}
	names, err := exporterNames(envLogsExporter, c.logs, "WithLogsExporter", builtinExporters)
	if err != nil {
		return nil, nil, nil, err
	}
	batch, err := logBatchConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	for _, name := range names {
		switch name {
		case exporterOTLP:
			exp, err := newOTLPLogExporter(ctx, c)
			if err != nil {
				for _, p := range procs {
					_ = p.Shutdown(ctx)
				}
				return nil, nil, nil, err
			}
			procs = append(procs, newBatchLogProcessor("otlp exporter", exp, batch))
		case exporterConsole:
			exp, err := stdoutlog.New(stdoutlog.WithWriter(consoleWriter(c)), stdoutlog.WithPrettyPrint())
			if err != nil {
				for _, p := range procs {
					_ = p.Shutdown(ctx)
				}
				return nil, nil, nil, fmt.Errorf("provider: console log exporter: %w", err)
			}
			procs = append(procs, newBatchLogProcessor("console exporter", exp, batch))
		}
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
