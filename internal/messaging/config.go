package messaging

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Version is the version of asynctrace, reported as the instrumentation
// scope version of every tracer and meter it creates.
const Version = "0.1.0"

// Config is what the options of an adapter set. The zero value means: the
// global tracer provider, meter provider and propagator, the adapter's own
// messaging.system, process spans as children of the producer's span.
type Config struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// System overrides the adapter's default messaging.system value.
	System string
	// SpanAttributes are added to every span.
	SpanAttributes []attribute.KeyValue
	// LinkToProducer starts process spans in the consumer's own trace with
	// a link to the producer's span, instead of as the producer's child.
	LinkToProducer bool
	ServerAddress  string
	ServerPort     int
	// RecordBodySize adds messaging.message.body.size (opt-in per the
	// semantic conventions: the size is known but not always meaningful).
	RecordBodySize bool
	// FallbackPrefixes overrides the key prefixes read when a message has
	// no plain traceparent (see carrier.Extractor).
	FallbackPrefixes []string
}

// Option sets a field of [Config].
type Option func(*Config)

// NewConfig applies opts in order to a zero Config.
func NewConfig(opts ...Option) Config {
	var c Config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}
