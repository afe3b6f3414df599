package provider

import (
	"io"
	"maps"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Option configures [Start]. Options set defaults; the standard OTEL_*
// environment variables override them as the package documentation lists.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config collects what the options asked for; env vars are consulted later,
// when Start builds each part, so that they can win over these defaults.
type config struct {
	serviceName    string
	serviceVersion string
	environment    string
	attrs          []attribute.KeyValue

	sampleRatio    float64
	sampleRatioSet bool
	sampler        sdktrace.Sampler

	endpoint        string
	signalEndpoints map[string]string // by signal name, used as given
	insecure        bool
	headers         map[string]string
	protocol        string

	consoleWriter io.Writer
	console       *lockedWriter // shared by the console exporters of all signals
	traces        []string
	metrics       []string
	logs          []string

	spanProcessors []sdktrace.SpanProcessor
	spanExporters  []sdktrace.SpanExporter
	metricReaders  []sdkmetric.Reader
	metricInterval time.Duration

	propagator propagation.TextMapPropagator

	withoutGlobals bool
	logsEnabled    bool
}

func newConfig(opts []Option) config {
	c := config{sampleRatio: 1}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithServiceName sets service.name. OTEL_SERVICE_NAME and a service.name in
// OTEL_RESOURCE_ATTRIBUTES win over it. Without either, service.name is
// "unknown_service:<executable>" as the OpenTelemetry specification requires.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.serviceName = name })
}

// WithServiceVersion sets service.version, for example a release tag or a
// commit hash. OTEL_RESOURCE_ATTRIBUTES wins over it.
func WithServiceVersion(version string) Option {
	return optionFunc(func(c *config) { c.serviceVersion = version })
}

// WithEnvironment sets deployment.environment.name, for example "production"
// or "staging". OTEL_RESOURCE_ATTRIBUTES wins over it.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) { c.environment = env })
}

// WithResourceAttributes adds attributes to the resource shared by traces,
// metrics and logs. Attributes of the same key in OTEL_RESOURCE_ATTRIBUTES win
// over them; they win over the detected host, process and SDK attributes.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// WithSampleRatio sets the fraction of new traces to record, from 0 (none)
// to 1 (all, the default). It applies to root spans only: a span with a
// parent follows the parent's sampled flag, so a trace that entered this
// service sampled stays sampled. OTEL_TRACES_SAMPLER wins over it. A ratio
// outside [0, 1] makes Start fail.
func WithSampleRatio(ratio float64) Option {
	return optionFunc(func(c *config) {
		c.sampleRatio = ratio
		c.sampleRatioSet = true
	})
}

// WithSampler replaces the default parent-based ratio sampler with s.
// OTEL_TRACES_SAMPLER wins over it. Prefer WithSampleRatio unless a custom
// sampling rule is needed: a sampler that ignores the parent breaks traces
// that cross services.
func WithSampler(s sdktrace.Sampler) Option {
	return optionFunc(func(c *config) { c.sampler = s })
}

// WithEndpoint sets the default OTLP collector base URL, for example
// "http://otel-collector:4318" for OTLP/HTTP or "http://otel-collector:4317"
// for gRPC. As for OTEL_EXPORTER_OTLP_ENDPOINT, the signal paths
// (/v1/traces, /v1/metrics, /v1/logs) are appended to it for OTLP/HTTP, so
// "http://gateway/otlp" sends spans to http://gateway/otlp/v1/traces. A URL
// that already ends in a signal path makes Start fail: use
// WithTracesEndpoint, WithMetricsEndpoint or WithLogsEndpoint for a URL that
// is used as given. The scheme chooses plain text (http) or TLS (https).
//
// It is used only for signals whose endpoint no option of their own and no
// variable sets: OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT win over it. Without
// any, the exporters' default, https://localhost:4318 (or :4317 for gRPC),
// is used. A URL that is not http(s)://host[:port][/path] makes Start fail.
func WithEndpoint(url string) Option {
	return optionFunc(func(c *config) { c.endpoint = url })
}

// WithTracesEndpoint sets the URL spans are sent to, used as given, for
// example "http://otel-collector:4318/v1/traces"; as for
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, nothing is appended, and a URL without
// a path sends to "/". For gRPC only the scheme, host and port count. It wins
// over WithEndpoint; OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT win over it.
func WithTracesEndpoint(url string) Option {
	return signalEndpoint(signalTraces, url)
}

// WithMetricsEndpoint is WithTracesEndpoint for metrics, for example
// "http://otel-collector:4318/v1/metrics". OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT win over it.
func WithMetricsEndpoint(url string) Option {
	return signalEndpoint(signalMetrics, url)
}

// WithLogsEndpoint is WithTracesEndpoint for logs, for example
// "http://otel-collector:4318/v1/logs". OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT win over it.
func WithLogsEndpoint(url string) Option {
	return signalEndpoint(signalLogs, url)
}

func signalEndpoint(sig signal, url string) Option {
	return optionFunc(func(c *config) {
		if c.signalEndpoints == nil {
			c.signalEndpoints = map[string]string{}
		}
		c.signalEndpoints[sig.name] = url
	})
}

// WithInsecure makes the exporters use plain text instead of TLS when the
// endpoint URL has no say, that is for the exporters' default endpoint. It
// has no effect when an endpoint comes from an option or the environment,
// or when OTEL_EXPORTER_OTLP_INSECURE is set.
func WithInsecure() Option {
	return optionFunc(func(c *config) { c.insecure = true })
}

// WithHeaders sets headers sent with every OTLP export request, for example
// an API key. They are used only for signals whose headers are not set by
// OTEL_EXPORTER_OTLP_HEADERS or OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_HEADERS.
func WithHeaders(headers map[string]string) Option {
	return optionFunc(func(c *config) { c.headers = maps.Clone(headers) })
}

// WithProtocol sets the default OTLP transport: "http/protobuf" (the
// default), "grpc", or "http/json" (traces only; metric and log exporters
// have no JSON encoding). OTEL_EXPORTER_OTLP_PROTOCOL and its per-signal
// variants win over it. An unknown protocol makes Start fail.
func WithProtocol(protocol string) Option {
	return optionFunc(func(c *config) { c.protocol = protocol })
}

// WithConsoleExporter is for local development: traces, metrics and logs
// are written to w as indented JSON instead of being sent over OTLP. When
// OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER is set it
// decides the exporters for that signal; a "console" there writes to w too.
// Without this option, "console" writes to standard output.
//
// Output is batched like OTLP exports, from a goroutine of its own, so a
// slow or stalled w never holds up the code that ends spans or logs: spans
// appear within OTEL_BSP_SCHEDULE_DELAY (5 s), log records within
// OTEL_BLRP_SCHEDULE_DELAY (1 s), metrics at each export interval, and all
// of them on ForceFlush and Shutdown. w is called by one goroutine at a
// time.
func WithConsoleExporter(w io.Writer) Option {
	return optionFunc(func(c *config) {
		c.consoleWriter = w
		c.traces = []string{exporterConsole}
		c.metrics = []string{exporterConsole}
		c.logs = []string{exporterConsole}
	})
}

// WithTreeExporter is for local development: each finished trace, this
// service's part of it, is written to w as a compact tree (a line per span
// with its service, kind, duration, status and place on the time line)
// instead of being sent over OTLP. Metrics and logs keep their exporters.
// OTEL_TRACES_EXPORTER, when set, decides; a "tree" there writes to w too.
// Like the console exporter, output is batched and never holds up the code
// that ends spans.
func WithTreeExporter(w io.Writer) Option {
	return optionFunc(func(c *config) {
		c.consoleWriter = w
		c.traces = []string{exporterTree}
	})
}

// WithTracesExporter sets the default span exporters by name, exactly as
// OTEL_TRACES_EXPORTER would: "otlp" (the default), "console" (the
// specification's JSON), "tree" (see [WithTreeExporter]) or "none".
// OTEL_TRACES_EXPORTER wins over it. Use "none" together with
// WithSpanExporter or WithSpanProcessor to replace OTLP, for example in tests.
func WithTracesExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.traces = append([]string(nil), names...) })
}

// WithMetricsExporter sets the default metric exporters by name, exactly as
// OTEL_METRICS_EXPORTER would: "otlp" (the default), "console" or "none".
// OTEL_METRICS_EXPORTER wins over it.
func WithMetricsExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.metrics = append([]string(nil), names...) })
}

// WithLogsExporter sets the default log exporters by name, exactly as
// OTEL_LOGS_EXPORTER would: "otlp" (the default), "console" or "none". It
// matters only together with WithLogs. OTEL_LOGS_EXPORTER wins over it.
func WithLogsExporter(names ...string) Option {
	return optionFunc(func(c *config) { c.logs = append([]string(nil), names...) })
}

// WithSpanProcessor registers sp with the tracer provider beside the
// configured exporters, for example a processor that adds attributes, or a
// tracetest.SpanRecorder in tests. The provider shuts it down.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return optionFunc(func(c *config) {
		if sp != nil {
			c.spanProcessors = append(c.spanProcessors, sp)
		}
	})
}

// WithSpanExporter sends spans to exp through a batch span processor, beside
// the exporters chosen by name (see WithTracesExporter), for example a
// tracetest.InMemoryExporter read after ForceFlush. The provider shuts it
// down. It is honoured even when OTEL_TRACES_EXPORTER is "none".
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return optionFunc(func(c *config) {
		if exp != nil {
			c.spanExporters = append(c.spanExporters, exp)
		}
	})
}

// WithMetricReader registers r with the meter provider beside the exporters
// chosen by name, for example an sdk/metric ManualReader in tests. It is
// honoured even when OTEL_METRICS_EXPORTER is "none".
func WithMetricReader(r sdkmetric.Reader) Option {
	return optionFunc(func(c *config) {
		if r != nil {
			c.metricReaders = append(c.metricReaders, r)
		}
	})
}

// WithMetricInterval sets how often metrics are exported (default 60 s).
// OTEL_METRIC_EXPORT_INTERVAL wins over it.
func WithMetricInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.metricInterval = d })
}

// WithPropagators sets the default propagator, used when OTEL_PROPAGATORS is
// unset. Without it, W3C Trace Context and W3C Baggage are used.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.propagator = p })
}

// WithoutGlobals keeps Start from installing the providers and the
// propagator as the otel globals (otel.SetTracerProvider and friends); use
// the Provider's accessors instead. Useful in tests and in programs that run
// several pipelines.
func WithoutGlobals() Option {
	return optionFunc(func(c *config) { c.withoutGlobals = true })
}

// WithLogs turns on the log pipeline: a LoggerProvider exporting over OTLP
// (or as OTEL_LOGS_EXPORTER says), reachable as an slog.Handler through
// Provider.LogHandler. Off by default.
func WithLogs() Option {
	return optionFunc(func(c *config) { c.logsEnabled = true })
}
