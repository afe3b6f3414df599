package httptrace

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// DefaultHealthPaths returns the request paths that Middleware and Handler
// serve without a span unless WithHealthPaths replaces them: /livez, /readyz,
// /healthz and /metrics. Probes and scrapes arrive every few seconds and
// would drown the traces people look for.
func DefaultHealthPaths() []string {
	return []string{"/livez", "/readyz", "/healthz", "/metrics"}
}

// Option configures Middleware, Handler, Transport and Client.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagators    propagation.TextMapPropagator
	healthPaths    map[string]struct{}
	filters        []func(*http.Request) bool
	traceResponse  bool
	routeFunc      func(*http.Request) string
	otelhttpOpts   []otelhttp.Option
}

func newConfig(opts []Option) *config {
	c := &config{traceResponse: true}
	WithHealthPaths(DefaultHealthPaths()...).apply(c)
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// otelhttpOptions translates the configuration into otelhttp options.
// Providers and propagators left unset are not passed, so otelhttp falls back
// to the otel globals, which it resolves lazily enough for a global set after
// construction to take effect.
func (c *config) otelhttpOptions(extra ...otelhttp.Option) []otelhttp.Option {
	opts := make([]otelhttp.Option, 0, 3+len(extra)+len(c.otelhttpOpts))
	if c.tracerProvider != nil {
		opts = append(opts, otelhttp.WithTracerProvider(c.tracerProvider))
	}
	if c.meterProvider != nil {
		opts = append(opts, otelhttp.WithMeterProvider(c.meterProvider))
	}
	if c.propagators != nil {
		opts = append(opts, otelhttp.WithPropagators(c.propagators))
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

// WithTracerProvider sets the TracerProvider that creates the spans. Without
// it the global provider (otel.GetTracerProvider) is used.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = tp })
}

// WithMeterProvider sets the MeterProvider for the HTTP metrics that otelhttp
// records. Without it the global provider is used.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithPropagators sets the propagator that extracts the incoming trace
// context (server) and injects the outgoing one (client). Without it the
// global propagator (otel.GetTextMapPropagator) is used.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.propagators = p })
}

// WithHealthPaths replaces DefaultHealthPaths(): requests whose URL path equals
// one of paths exactly are served without a span, without trace context
// extraction and without a traceresponse header. Call it with no paths to
// trace every request.
func WithHealthPaths(paths ...string) Option {
	return optionFunc(func(c *config) {
		c.healthPaths = make(map[string]struct{}, len(paths))
		for _, p := range paths {
			c.healthPaths[p] = struct{}{}
		}
	})
}

// WithFilter adds a server-side filter: a request is traced only if every
// filter returns true. Filters run on every request, so keep them cheap.
// Prefer this over otelhttp.WithFilter passed through WithOTelHTTPOptions:
// requests rejected here skip the traceresponse header and route handling
// as well.
func WithFilter(f func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filters = append(c.filters, f)
		}
	})
}

// WithoutTraceResponse stops the server from returning the traceresponse
// header, for services that must not reveal trace ids to their callers.
func WithoutTraceResponse() Option {
	return optionFunc(func(c *config) { c.traceResponse = false })
}

// WithRouteFunc sets a function that reports the matched route template
// (for example "/v1/orders/{id}") of a request whose route is resolved by a
// router inside the middleware, such as chi or gorilla/mux. It is called
// after the handler returned, with the request the middleware received. A
// result starting with "/" renames the server span to "{method} {route}" and
// sets http.route on the span and on the request metrics; any other result
// (such as "" for an unmatched request) leaves the name otelhttp chose.
func WithRouteFunc(f func(*http.Request) string) Option {
	return optionFunc(func(c *config) { c.routeFunc = f })
}

// WithOTelHTTPOptions passes options straight to otelhttp (for example
// otelhttp.WithSpanNameFormatter, otelhttp.WithPublicEndpointFn or
// otelhttp.WithServerName). They are applied after the options this package
// derives, so they win on conflict.
func WithOTelHTTPOptions(opts ...otelhttp.Option) Option {
	return optionFunc(func(c *config) { c.otelhttpOpts = append(c.otelhttpOpts, opts...) })
}
