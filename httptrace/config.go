package httptrace

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	internalconfig "github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/propagators"
)

// DefaultHealthPaths returns the request paths that NewMiddleware and WrapHandler
// serve without a span unless WithHealthPaths replaces them: /livez, /readyz,
// /healthz and /metrics. Probes and scrapes arrive every few seconds and
// would drown the traces people look for.
func DefaultHealthPaths() []string {
	return []string{"/livez", "/readyz", "/healthz", "/metrics"}
}

// config holds the settings of this package's options; the shared ones
// (providers, propagators, span attributes) come from package asynctrace.
type config struct {
	shared        internalconfig.Shared
	healthPaths   map[string]struct{}
	filters       []func(*http.Request) bool
	traceResponse bool
	routeFunc     func(*http.Request) string
	otelhttpOpts  []otelhttp.Option
}

func newConfig(fn string, opts []asynctrace.Option) *config {
	c := &config{traceResponse: true, healthPaths: pathSet(DefaultHealthPaths())}
	c.shared = internalconfig.Resolve("httptrace."+fn, "httptrace", opts, c)
	return c
}

func option(name string, set func(*config)) asynctrace.Option {
	return internalconfig.New(internalconfig.Option{Name: "httptrace." + name, Adapter: "httptrace", Local: set}).(asynctrace.Option)
}

func pathSet(paths []string) map[string]struct{} {
	set := make(map[string]struct{}, len(paths))
	for _, p := range paths {
		set[p] = struct{}{}
	}
	return set
}

// otelhttpOptions translates the configuration into otelhttp options.
// Providers left unset are not passed, so otelhttp falls back to the otel
// globals, which delegate to a provider installed later. The propagator
// left unset is the global one at the time of each request, or W3C Trace
// Context and Baggage while none is installed. Either way it reads and
// writes traceparent and tracestate by the W3C header rules (w3cPropagator).
func (c *config) otelhttpOptions(extra ...otelhttp.Option) []otelhttp.Option {
	opts := make([]otelhttp.Option, 0, 4+len(extra)+len(c.otelhttpOpts))
	if c.shared.TracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(c.shared.TracerProvider))
	}
	if c.shared.MeterProvider != nil {
		opts = append(opts, otelhttp.WithMeterProvider(c.shared.MeterProvider))
	}
	var prop propagation.TextMapPropagator = propagators.Dynamic{}
	if c.shared.Propagator != nil {
		prop = c.shared.Propagator
	}
	opts = append(opts, otelhttp.WithPropagators(w3cPropagator{prop}))
	if len(c.shared.SpanAttributes) > 0 {
		opts = append(opts, otelhttp.WithSpanOptions(trace.WithAttributes(c.shared.SpanAttributes...)))
	}
	opts = append(opts, extra...)
	// Caller-supplied otelhttp options come last so they can override ours.
	return append(opts, c.otelhttpOpts...)
}

// traced reports whether a server request gets a span.
func (c *config) traced(r *http.Request) bool {
	if r.URL != nil {
		if _, ok := c.healthPaths[r.URL.Path]; ok {
			return false
		}
	}
	for _, f := range c.filters {
		if !f(r) {
			return false
		}
	}
	return true
}

// WithHealthPaths replaces DefaultHealthPaths(): requests whose URL path equals
// one of paths exactly are served without a span, without trace context
// extraction and without a traceresponse header. Call it with no paths to
// trace every request.
func WithHealthPaths(paths ...string) asynctrace.Option {
	set := pathSet(paths)
	return option("WithHealthPaths", func(c *config) { c.healthPaths = set })
}

// WithFilter adds a server-side filter: a request is traced only if every
// filter returns true. Filters run on every request, so keep them cheap.
// Prefer this over otelhttp.WithFilter passed through WithOTelHTTPOptions:
// requests rejected here skip the traceresponse header and route handling
// as well. It panics if f is nil.
func WithFilter(f func(*http.Request) bool) asynctrace.Option {
	if f == nil {
		panic("httptrace.WithFilter: filter is nil")
	}
	return option("WithFilter", func(c *config) { c.filters = append(c.filters, f) })
}

// WithoutTraceResponse stops the server from returning the traceresponse
// header, for services that must not reveal trace ids to their callers.
func WithoutTraceResponse() asynctrace.Option {
	return option("WithoutTraceResponse", func(c *config) { c.traceResponse = false })
}

// WithRouteFunc sets a function that reports the matched route template
// (for example "/v1/orders/{id}") of a request whose route is resolved by a
// router inside the middleware, such as chi or gorilla/mux. It is called
// after the handler returned, with the request the middleware received. A
// result starting with "/" renames the server span to "{method} {route}" and
// sets http.route on the span and on the request metrics; any other result
// (such as "" for an unmatched request) leaves the name otelhttp chose. It
// panics if f is nil.
func WithRouteFunc(f func(*http.Request) string) asynctrace.Option {
	if f == nil {
		panic("httptrace.WithRouteFunc: function is nil")
	}
	return option("WithRouteFunc", func(c *config) { c.routeFunc = f })
}

// WithOTelHTTPOptions passes options straight to otelhttp (for example
// otelhttp.WithSpanNameFormatter, otelhttp.WithPublicEndpointFn or
// otelhttp.WithServerName). They are applied after the options this package
// derives, so they win on conflict.
func WithOTelHTTPOptions(opts ...otelhttp.Option) asynctrace.Option {
	opts = append([]otelhttp.Option(nil), opts...)
	return option("WithOTelHTTPOptions", func(c *config) { c.otelhttpOpts = append(c.otelhttpOpts, opts...) })
}
