package slogtrace

// Default attribute keys. They match the field names of the OpenTelemetry
// log data model, which Grafana, Tempo and Jaeger-linked log views look for.
const (
	// DefaultTraceIDKey is the key of the trace id attribute.
	DefaultTraceIDKey = "trace_id"
	// DefaultSpanIDKey is the key of the span id attribute.
	DefaultSpanIDKey = "span_id"
	// DefaultTraceFlagsKey is the key of the trace flags attribute.
	DefaultTraceFlagsKey = "trace_flags"
)

// Option configures WrapHandler.
type Option interface {
	apply(*keys)
}

type optionFunc func(*keys)

func (f optionFunc) apply(k *keys) { f(k) }

type keys struct {
	traceID    string
	spanID     string
	traceFlags string
}

// WithTraceIDKey sets the key of the trace id attribute (default
// "trace_id"). An empty key leaves the trace id out.
func WithTraceIDKey(key string) Option {
	return optionFunc(func(k *keys) { k.traceID = key })
}

// WithSpanIDKey sets the key of the span id attribute (default "span_id").
// An empty key leaves the span id out.
func WithSpanIDKey(key string) Option {
	return optionFunc(func(k *keys) { k.spanID = key })
}

// WithTraceFlagsKey sets the key of the trace flags attribute (default
// "trace_flags"). An empty key leaves the flags out.
func WithTraceFlagsKey(key string) Option {
	return optionFunc(func(k *keys) { k.traceFlags = key })
}
