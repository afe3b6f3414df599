package carrier

import "go.opentelemetry.io/otel/propagation"

// GoogleClientPrefix is the key prefix under which the Google Cloud Pub/Sub
// client's built-in tracing stores trace context (googclient_traceparent,
// googclient_tracestate).
const GoogleClientPrefix = "googclient_"

// DefaultMaxValueBytes is the longest value Extract hands to a propagator by
// default. It matches the W3C Baggage limit for a whole header; a longer value
// cannot be valid trace context and is treated as absent.
const DefaultMaxValueBytes = 8192

// traceparentKey is consulted to decide whether fallback prefixes apply: the
// prefixed keys are a complete alternative set, never mixed with plain ones.
const traceparentKey = "traceparent"

// Map is a [propagation.TextMapCarrier] over a map[string]string that the
// caller owns. Set writes into the map, so use Map directly only on a map that
// nobody else reads or writes concurrently; [Injector.Inject] is the safe way
// to inject into a message's map.
type Map map[string]string

var _ propagation.TextMapCarrier = Map(nil)

// Get returns the value stored under key, or "" when there is none.
func (m Map) Get(key string) string { return m[key] }

// Set stores value under key. Setting on a nil Map is a no-op.
func (m Map) Set(key, value string) {
	if m != nil {
		m[key] = value
	}
}

// Keys lists the keys of the map in no particular order.
func (m Map) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
