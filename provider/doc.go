// Package provider sets up OpenTelemetry for a service in one call: traces,
// metrics and, on request, logs exported over OTLP, a sampler, a resource
// describing the service, and the W3C Trace Context and Baggage propagators,
// installed as the otel globals so that every instrumentation library (the
// asynctrace broker wrappers, otelhttp, ...) picks them up.
//
// # Quick start
//
//	func main() {
//		ctx := context.Background()
//		p, err := provider.Start(ctx, provider.WithServiceName("checkout"))
//		if err != nil {
//			log.Fatal(err) // bad configuration, for example OTEL_TRACES_SAMPLER=sometimes
//		}
//		defer func() {
//			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//			defer cancel()
//			_ = p.Shutdown(ctx) // flushes what is buffered
//		}()
//		// ... run the service; otel.Tracer(...) now exports over OTLP.
//	}
//
// With no configuration at all, spans and metrics go over OTLP/HTTP to the
// exporters' default endpoint, https://localhost:4318. Point them at a
// collector with OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 or
// [WithEndpoint].
//
// # What Start sets up
//
//   - Resource: service.name, service.version and deployment.environment.name
//     from the options; telemetry.sdk.*, host.name, os.type, process.pid,
//     process.executable.name, process.runtime.* and service.instance.id
//     from the SDK's detectors; OTEL_RESOURCE_ATTRIBUTES and
//     OTEL_SERVICE_NAME on top. Process command lines are left out on
//     purpose: they may carry secrets.
//   - Traces: an SDK tracer provider with a batch span processor per
//     exporter, console included, and the sampler.
//     The batch processors follow the OpenTelemetry specification and its
//     OTEL_BSP_* variables, but stop exporting when Shutdown gives up (see
//     Shutdown below).
//   - Sampler: parent-based by default. A span whose parent was sampled is
//     sampled, one whose parent was not is not, whatever the ratio; the
//     ratio ([WithSampleRatio], default 1) decides for new traces only.
//   - Metrics: an SDK meter provider with a periodic reader per exporter
//     (every 60 s, OTEL_METRIC_EXPORT_INTERVAL or [WithMetricInterval]),
//     plus readers from [WithMetricReader]. With no reader at all the meter
//     provider is the no-op one.
//   - Logs, only with [WithLogs]: an SDK logger provider with a batch
//     processor (OTEL_BLRP_* variables), reachable as an slog.Handler
//     through [Provider.LogHandler] (the otelslog bridge):
//     slog.InfoContext(ctx, ...) ships a log record that carries the trace
//     and span IDs found in ctx.
//   - Propagator: W3C Trace Context + Baggage, or OTEL_PROPAGATORS.
//   - Globals: otel.SetTracerProvider, SetMeterProvider, SetTextMapPropagator
//     and, with WithLogs, SetLoggerProvider, unless [WithoutGlobals].
//
// Start creates no span, metric or attribute of its own.
//
// # Configuration precedence
//
// Options set defaults; the standard environment variables win, so an
// operator can redirect or silence a service without a rebuild. The OTLP
// exporters read their variables first and let code options override them,
// so Start passes an option's endpoint, headers or insecure flag only when
// the matching variables are unset.
//
//	Setting                   Environment (wins)                                Option (default)
//	------------------------  ------------------------------------------------  ------------------------------------
//	service.name              OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES  WithServiceName (unknown_service:<exe>)
//	other resource attributes OTEL_RESOURCE_ATTRIBUTES                          WithServiceVersion, WithEnvironment,
//	                                                                            WithResourceAttributes
//	sampler                   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG      WithSampler, WithSampleRatio (parent-based, 1)
//	propagators               OTEL_PROPAGATORS                                  WithPropagators (tracecontext,baggage)
//	span exporters            OTEL_TRACES_EXPORTER  (otlp|console|tree|none)    WithTracesExporter, WithConsoleExporter,
//	                                                                            WithTreeExporter (otlp)
//	metric exporters          OTEL_METRICS_EXPORTER (otlp|console|none)         WithMetricsExporter, WithConsoleExporter (otlp)
//	log exporters             OTEL_LOGS_EXPORTER    (otlp|console|none)         WithLogsExporter, WithConsoleExporter (otlp)
//	OTLP base URL             OTEL_EXPORTER_OTLP_ENDPOINT                       WithEndpoint (https://localhost:4318)
//	OTLP URL of one signal    OTEL_EXPORTER_OTLP_SIGNAL_ENDPOINT                WithTracesEndpoint, WithMetricsEndpoint,
//	                                                                            WithLogsEndpoint
//	OTLP plain text           OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE, URL scheme  WithInsecure, the endpoint's scheme
//	OTLP headers              OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS               WithHeaders
//	OTLP protocol             OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL              WithProtocol (http/protobuf)
//	OTLP timeout, compression OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT, _COMPRESSION  exporter defaults (10 s, none)
//	metric export interval    OTEL_METRIC_EXPORT_INTERVAL                       WithMetricInterval (60 s)
//	batching                  OTEL_BSP_*, OTEL_BLRP_*                           specification defaults
//	everything off            OTEL_SDK_DISABLED=true                            -
//
// SIGNAL_ is TRACES_, METRICS_ or LOGS_; a per-signal variable wins over the
// general one. Extra exporters, processors and readers given with
// [WithSpanExporter], [WithSpanProcessor] and [WithMetricReader] are always
// used, even when an OTEL_*_EXPORTER variable says "none": use
// WithTracesExporter("none") plus WithSpanExporter to replace OTLP in tests.
//
// Endpoints follow the OTLP exporter specification. OTEL_EXPORTER_OTLP_ENDPOINT
// and [WithEndpoint] are base URLs: for OTLP/HTTP the signal's path,
// /v1/traces, /v1/metrics or /v1/logs, is appended, so
// http://gateway:4318/otlp sends spans to http://gateway:4318/otlp/v1/traces.
// A base URL that already ends in a signal path is rejected, since the path
// would end up there twice. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (METRICS,
// LOGS) and [WithTracesEndpoint] ([WithMetricsEndpoint], [WithLogsEndpoint])
// are used as given. Any endpoint variable that applies to a signal wins over
// both options; for that signal, its own option wins over WithEndpoint.
// gRPC uses only the scheme, host and port of any of them.
//
// Protocols: http/protobuf and grpc for every signal; http/json for traces
// only, as the metric and log exporters cannot encode JSON.
//
// # Errors and failure modes
//
// Start returns an error wrapping [ErrInvalidConfig], and installs nothing,
// when an option or variable has a value it cannot use: a sample ratio
// outside [0, 1]; an unknown sampler, exporter, propagator, protocol or
// compression; an endpoint that is not an http(s) URL with a host, or a base
// endpoint that ends in a signal path; a boolean that is neither true nor
// false; a number of milliseconds or items that is not a whole number in
// range; malformed OTEL_EXPORTER_OTLP_HEADERS or OTEL_RESOURCE_ATTRIBUTES.
// The message names the option or variable at fault and lists the valid
// values, for example
//
//	provider: invalid configuration: OTEL_PROPAGATORS: unknown propagator "w3c" (want a comma-separated list of tracecontext, ...)
//
// Start never panics and never exits the program.
//
// Start does not contact the collector, so a collector that is down does
// not delay start-up. Failed exports are reported to the otel error handler
// (otel.SetErrorHandler) and the data is dropped; the service carries on.
// Spans and log records that arrive while the queue is full (2048 by
// default) are dropped too, and counted in a report to the error handler.
//
// OTEL_SDK_DISABLED=true replaces the tracer, meter and logger providers
// with no-op ones, at no cost, leaves exporters, processors and readers
// given as options unused, and skips the checks above except for
// OTEL_PROPAGATORS: the propagator is still installed, so a trace that
// enters the service through a traceparent header leaves it with the same
// header and the trace stays whole across services that do export.
//
// # Shutdown
//
// [Provider.Shutdown] exports what is buffered, in all pipelines at once,
// then shuts the exporters down. It returns when that is done or when its
// context ends, whichever comes first. If the context ends first:
//
//   - spans and log records still queued are dropped, exports in flight are
//     cancelled, and so is the final metric export; cancelling an OTLP
//     export closes its connection;
//   - the error returned wraps the context's error and says, per pipeline,
//     what was lost, for example "provider: traces: otlp exporter: 5000
//     spans dropped (4488 queued, 512 in a cancelled export): context
//     deadline exceeded";
//   - when Shutdown returns, the goroutines of the provider's pipelines and
//     exporters have ended or are ending, within a few milliseconds, and
//     their connections to the collector are closed. Nothing is retried or
//     exported afterwards.
//
// An exporter that ignores cancellation, such as a console writer blocked
// in Write or an exporter of your own given with [WithSpanExporter], is
// waited for at most half a second longer, then left behind. Processors and
// readers of your own ([WithSpanProcessor], [WithMetricReader]) get the
// same context and are waited for: they must honour it for Shutdown to
// return in time.
//
// A collector that refuses connections makes no export wait. Export
// failures during a Shutdown that finishes in time go to the error handler,
// as before it, except the final metric export's, which Shutdown returns.
// With a context that never ends, Shutdown waits for every export, each
// bounded by the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s) and
// OTEL_BSP_EXPORT_TIMEOUT or OTEL_BLRP_EXPORT_TIMEOUT (30 s). OTLP/HTTP
// connections left idle by successful exports stay in the exporters' shared
// connection pool until the collector or the pool's idle timeout (90 s)
// closes them.
package provider
