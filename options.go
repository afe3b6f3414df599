package asynctrace

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Version is the version of asynctrace, reported as the instrumentation scope
// version of its tracers and meters.
const Version = messaging.Version

// Option configures a messaging adapter (pulsartrace, watermilltrace,
// pubsubtrace).
type Option = messaging.Option

// WithTracerProvider sets the tracer provider spans are created with.
// The default is otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *messaging.Config) { c.TracerProvider = tp }
}

// WithMeterProvider sets the meter provider the messaging metrics are
// recorded with. The default is otel.GetMeterProvider(); with no meter
// provider installed, recording costs nothing.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *messaging.Config) { c.MeterProvider = mp }
}

// WithPropagators sets the propagator that writes context into messages and
// reads it back. The default is otel.GetTextMapPropagator(); install W3C
// TraceContext and Baggage there (the provider package does).
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *messaging.Config) { c.Propagator = p }
}

// WithSpanAttributes adds attributes to every span the adapter starts.
func WithSpanAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *messaging.Config) { c.SpanAttributes = append(c.SpanAttributes, attrs...) }
}

// WithLinkToProducer makes each process span start in the consumer's own
// trace (a child of the consumer's current span, or a new root) with a link
// to the producer's span, instead of continuing the producer's trace as its
// child. Use it where one trace per consumer batch or per consumer service
// is wanted; the default keeps one unbroken trace.
func WithLinkToProducer() Option {
	return func(c *messaging.Config) { c.LinkToProducer = true }
}

// WithMessagingSystem overrides the messaging.system attribute, for example
// to name the broker behind a Watermill publisher ("redis", "rabbitmq",
// "nats", "kafka").
func WithMessagingSystem(system string) Option {
	return func(c *messaging.Config) { c.System = system }
}

// WithServerAddress sets server.address (and server.port, when port > 0) on
// every span and metric.
func WithServerAddress(host string, port int) Option {
	return func(c *messaging.Config) { c.ServerAddress, c.ServerPort = host, port }
}

// WithMessageBodySize records messaging.message.body.size, the payload size
// in bytes, on every span. It is opt-in in the semantic conventions.
func WithMessageBodySize() Option {
	return func(c *messaging.Config) { c.RecordBodySize = true }
}

// WithFallbackKeyPrefixes sets the key prefixes tried when a received
// message has no plain traceparent. The default is "googclient_", so that
// messages from the Pub/Sub client's built-in tracing are continued; call it
// with no prefixes to read plain keys only.
func WithFallbackKeyPrefixes(prefixes ...string) Option {
	return func(c *messaging.Config) { c.FallbackPrefixes = append([]string{}, prefixes...) }
}
