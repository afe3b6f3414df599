package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
)

// ScopeName is the instrumentation scope of the log records that
// [Provider.LogHandler] emits.
const ScopeName = "github.com/asynctrace/asynctrace/provider"

// Provider owns the tracer, meter and (optionally) logger providers that
// [Start] set up, and the propagator. Its methods are safe for concurrent
// use. They are also safe on a nil *Provider, as returned by a failed Start,
// where the accessors return no-op implementations and Shutdown does
// nothing, so that a deferred Shutdown cannot turn a configuration error
// into a panic.
type Provider struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	lp   log.LoggerProvider
	prop propagation.TextMapPropagator
	res  *resource.Resource

	// SDK parts to flush and shut down; nil when disabled or not configured.
	sdkTP *sdktrace.TracerProvider
	sdkMP *sdkmetric.MeterProvider
	sdkLP *sdklog.LoggerProvider
	// The pipelines' processors, shut down directly and concurrently rather
	// than one by one through the providers' Shutdown.
	spanProcs []*onceSpanProcessor
	logProcs  []sdklog.Processor

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start sets up OpenTelemetry for a service: resource, sampler, span, metric
// and (with [WithLogs]) log pipelines, and propagator; and, unless
// [WithoutGlobals] is given, installs them as the otel globals. ctx bounds
// resource detection only; Start never contacts the collector, so it returns
// promptly even when the collector is down.
//
// Start returns an error wrapping [ErrInvalidConfig] for bad configuration
// from options or environment. On error nothing is installed and nothing
// needs shutting down.
//
// With OTEL_SDK_DISABLED=true, Start installs no-op tracer, meter and logger
// providers (no resource detection, no exporters, no goroutines) but still
// installs the configured propagator, so trace context that enters the
// service keeps flowing to the services it calls.
func Start(ctx context.Context, opts ...Option) (*Provider, error) {
	c := newConfig(opts)
	prop, err := newPropagator(&c)
	if err != nil {
		return nil, err
	}
	disabled, err := sdkDisabled()
	if err != nil {
		return nil, err
	}
	if disabled {
		p := &Provider{
			tp:   tracenoop.NewTracerProvider(),
			mp:   metricnoop.NewMeterProvider(),
			lp:   lognoop.NewLoggerProvider(),
			prop: prop,
		}
		p.installGlobals(&c)
		return p, nil
	}
	sampler, err := newSampler(&c)
	if err != nil {
		return nil, err
	}
	if err := validateExporters(&c); err != nil {
		return nil, err
	}
	res, err := newResource(ctx, &c)
	if err != nil {
		return nil, err
	}

	procs, err := newSpanProcessors(ctx, &c)
	if err != nil {
		return nil, err
	}
	p := &Provider{prop: prop, res: res}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	for _, sp := range procs {
		once := &onceSpanProcessor{SpanProcessor: sp}
		p.spanProcs = append(p.spanProcs, once)
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(once))
	}
	p.sdkTP = sdktrace.NewTracerProvider(tpOpts...)
	p.tp = p.sdkTP

	if p.mp, p.sdkMP, err = newMeterProvider(ctx, &c, res); err != nil {
		_ = p.Shutdown(ctx)
		return nil, err
	}
	if p.lp, p.sdkLP, p.logProcs, err = newLoggerProvider(ctx, &c, res); err != nil {
		_ = p.Shutdown(ctx)
		return nil, err
	}
	p.installGlobals(&c)
	return p, nil
}

// validateExporters checks every exporter name and OTLP setting before
// anything is built, so that a bad setting for one signal does not leave
// another signal's pipeline half started.
func validateExporters(c *config) error {
	check := func(envKey string, code []string, option string, known []string, sig signal) error {
		names, err := exporterNames(envKey, code, option, known)
		if err != nil {
			return err
		}
		if slices.Contains(names, exporterOTLP) {
			_, err = resolveOTLP(sig, c)
		}
		return err
	}
	if err := check(envTracesExporter, c.traces, "WithTracesExporter", registered(spanExporters), signalTraces); err != nil {
		return err
	}
	if _, err := spanBatchConfig(); err != nil {
		return err
	}
	if err := check(envMetricsExporter, c.metrics, "WithMetricsExporter", registered(metricExporters), signalMetrics); err != nil {
		return err
	}
	if _, _, err := envInt(envMetricInterval, 1); err != nil {
		return err
	}
	if _, _, err := envInt(envMetricTimeout, 1); err != nil {
		return err
	}
	if !c.logsEnabled {
		return nil
	}
	if err := check(envLogsExporter, c.logs, "WithLogsExporter", registered(logExporters), signalLogs); err != nil {
		return err
	}
	_, err := logBatchConfig()
	return err
}

func (p *Provider) installGlobals(c *config) {
	if c.withoutGlobals {
		return
	}
	otel.SetTextMapPropagator(p.prop)
	otel.SetTracerProvider(p.tp)
	otel.SetMeterProvider(p.mp)
	if c.logsEnabled {
		otel.SetLoggerProvider(p.lp)
	}
}

// TracerProvider returns the tracer provider: the SDK's, or a no-op one when
// OTEL_SDK_DISABLED=true.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil || p.tp == nil {
		return tracenoop.NewTracerProvider()
	}
	return p.tp
}

// MeterProvider returns the meter provider: the SDK's, or a no-op one when
// OTEL_SDK_DISABLED=true or no metric exporter or reader is configured.
func (p *Provider) MeterProvider() metric.MeterProvider {
	if p == nil || p.mp == nil {
		return metricnoop.NewMeterProvider()
	}
	return p.mp
}

// LoggerProvider returns the OpenTelemetry logger provider: the SDK's with
// [WithLogs], otherwise a no-op one.
func (p *Provider) LoggerProvider() log.LoggerProvider {
	if p == nil || p.lp == nil {
		return lognoop.NewLoggerProvider()
	}
	return p.lp
}

// Propagator returns the propagator, also when OTEL_SDK_DISABLED=true.
func (p *Provider) Propagator() propagation.TextMapPropagator {
	if p == nil || p.prop == nil {
		return propagation.NewCompositeTextMapPropagator()
	}
	return p.prop
}

// Options returns the asynctrace options that point an adapter at this
// Provider's tracer provider, meter provider and propagator, followed by
// extra. A service started with the globals installed needs none of them;
// one started [WithoutGlobals] (several services in one process, tests)
// passes them to every adapter:
//
//	producer = pulsartrace.WrapProducer(producer, p.Options()...)
func (p *Provider) Options(extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{
		asynctrace.WithTracerProvider(p.TracerProvider()),
		asynctrace.WithMeterProvider(p.MeterProvider()),
		asynctrace.WithPropagators(p.Propagator()),
	}, extra...)
}

// Resource returns the resource shared by all signals, or nil when
// OTEL_SDK_DISABLED=true.
func (p *Provider) Resource() *resource.Resource {
	if p == nil {
		return nil
	}
	return p.res
}

// LogHandler returns an slog.Handler that turns slog records into
// OpenTelemetry log records, correlated with the span in the context passed
// to the slog call (use the *Context methods such as slog.InfoContext).
// Without [WithLogs] the records are dropped.
//
//	slog.SetDefault(slog.New(p.LogHandler()))
func (p *Provider) LogHandler() slog.Handler {
	return otelslog.NewHandler(ScopeName, otelslog.WithLoggerProvider(p.LoggerProvider()))
}

// ForceFlush exports everything buffered so far, bounded by ctx.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.each(ctx, func(ctx context.Context, tp *sdktrace.TracerProvider) error { return tp.ForceFlush(ctx) },
		func(ctx context.Context, mp *sdkmetric.MeterProvider) error { return mp.ForceFlush(ctx) },
		func(ctx context.Context, lp *sdklog.LoggerProvider) error { return lp.ForceFlush(ctx) })
}

// Shutdown flushes and stops every pipeline, in parallel, and returns when
// they are done or ctx ends, whichever comes first. When ctx ends first,
// what was not exported is dropped, exports in flight are cancelled, and
// the error, wrapping ctx's, counts what was lost; nothing of the pipelines
// keeps running afterwards (the package documentation details the
// guarantee). Telemetry recorded after Shutdown is dropped. Calling Shutdown
// again returns the first call's result.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.shutdownOnce.Do(func() {
		p.shutdownErr = p.each(ctx, p.shutdownTraces, func(ctx context.Context, mp *sdkmetric.MeterProvider) error { return mp.Shutdown(ctx) },
			p.shutdownLogs)
	})
	return p.shutdownErr
}

func (p *Provider) shutdownTraces(ctx context.Context, tp *sdktrace.TracerProvider) error {
	// The processors are shut down side by side, so that one stuck exporter
	// does not use up the others' share of ctx; TracerProvider.Shutdown
	// would call them one after another and skip the rest once ctx ended.
	err := shutdownAll(ctx, p.spanProcs)
	// Now it only marks the provider as shut down: the processors' Shutdown
	// is idempotent and its error is already in err.
	_ = tp.Shutdown(ctx)
	return err
}

func (p *Provider) shutdownLogs(ctx context.Context, lp *sdklog.LoggerProvider) error {
	err := shutdownAll(ctx, p.logProcs)
	_ = lp.Shutdown(ctx)
	return err
}

// shutdownAll shuts procs down concurrently and joins their errors.
func shutdownAll[P interface{ Shutdown(context.Context) error }](ctx context.Context, procs []P) error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, proc := range procs {
		wg.Go(func() { errs[i] = proc.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// each runs one operation per configured SDK provider concurrently, so a
// stuck trace export does not eat the metrics' share of ctx, and joins the
// errors.
func (p *Provider) each(ctx context.Context,
	onTP func(context.Context, *sdktrace.TracerProvider) error,
	onMP func(context.Context, *sdkmetric.MeterProvider) error,
	onLP func(context.Context, *sdklog.LoggerProvider) error,
) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(what string, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("provider: %s: %w", what, err))
				mu.Unlock()
			}
		})
	}
	if p.sdkTP != nil {
		run("traces", func() error { return onTP(ctx, p.sdkTP) })
	}
	if p.sdkMP != nil {
		run("metrics", func() error { return onMP(ctx, p.sdkMP) })
	}
	if p.sdkLP != nil {
		run("logs", func() error { return onLP(ctx, p.sdkLP) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
