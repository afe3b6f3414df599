package carrier

import (
	"context"

	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace/internal/propagators"
)

// Extractor reads the context a producer wrote into a message's map. The zero
// value uses the global propagator, the [GoogleClientPrefix] fallback and
// [DefaultMaxValueBytes]. An Extractor is safe for concurrent use.
type Extractor struct {
	// Propagator decodes the context; nil means the global propagator at the
	// time of each call, or W3C Trace Context and Baggage while none is
	// installed.
	Propagator propagation.TextMapPropagator
	// FallbackPrefixes are tried, in order, for a key the map lacks, but
	// only when the map carries no plain traceparent (so the context of two
	// different producers is never mixed). nil means [GoogleClientPrefix];
	// an empty non-nil slice turns the fallback off.
	FallbackPrefixes []string
	// MaxValueBytes is the longest value passed to the propagator; longer
	// values are treated as absent. 0 means [DefaultMaxValueBytes].
	MaxValueBytes int
}

// Extract returns ctx with the span context and baggage found in props. A
// missing, malformed or oversized value leaves ctx as it is: the message is
// simply processed without a remote parent.
func (ex Extractor) Extract(ctx context.Context, props map[string]string) context.Context {
	if len(props) == 0 {
		return ctx
	}
	prop := ex.Propagator
	if prop == nil {
		prop = propagators.Global()
	}
	if ex.MaxValueBytes == 0 || ex.MaxValueBytes == DefaultMaxValueBytes {
		// The common settings live in the methods of map types, which
		// convert to an interface without allocating.
		switch {
		case ex.FallbackPrefixes == nil:
			return prop.Extract(ctx, defaultReader(props))
		case len(ex.FallbackPrefixes) == 0:
			return prop.Extract(ctx, plainReader(props))
		}
	}
	maxBytes := ex.MaxValueBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxValueBytes
	}
	prefixes := ex.FallbackPrefixes
	if prefixes == nil {
		prefixes = []string{GoogleClientPrefix}
	}
	return prop.Extract(ctx, &reader{props: props, prefixes: prefixes, maxBytes: maxBytes})
}

// Extract is Extractor{}.Extract: the global propagator with the default
// fallback and size limit.
func Extract(ctx context.Context, props map[string]string) context.Context {
	return Extractor{}.Extract(ctx, props)
}

// reader is the read-only carrier given to propagators on extraction.
// Set is a no-op: extraction must never write into a received message.
type reader struct {
	props    map[string]string
	prefixes []string
	maxBytes int
}

func (r *reader) Get(key string) string {
	return lookup(r.props, key, r.prefixes, r.maxBytes)
}

func (r *reader) Set(string, string) {}

func (r *reader) Keys() []string { return keysWithFallback(r.props, r.prefixes) }

var defaultPrefixes = []string{GoogleClientPrefix}

type defaultReader map[string]string

func (m defaultReader) Get(key string) string {
	return lookup(m, key, defaultPrefixes, DefaultMaxValueBytes)
}

func (defaultReader) Set(string, string) {}

func (m defaultReader) Keys() []string { return keysWithFallback(m, defaultPrefixes) }

// plainReader reads plain keys only, with the default size limit.
type plainReader map[string]string

func (m plainReader) Get(key string) string {
	if v := m[key]; len(v) <= DefaultMaxValueBytes {
		return v
	}
	return ""
}

func (plainReader) Set(string, string) {}

func (m plainReader) Keys() []string { return Map(m).Keys() }

// maxPrefixedKey bounds the stack buffer used to build prefixed keys; longer
// combinations are looked up with an ordinary string concatenation.
const maxPrefixedKey = 96

func lookup(props map[string]string, key string, prefixes []string, maxBytes int) string {
	v, ok := props[key]
	if !ok && len(prefixes) > 0 {
		if _, plain := props[traceparentKey]; !plain {
			v = lookupPrefixed(props, key, prefixes)
		}
	}
	if len(v) > maxBytes {
		return ""
	}
	return v
}

func lookupPrefixed(props map[string]string, key string, prefixes []string) string {
	var buf [maxPrefixedKey]byte
	for _, p := range prefixes {
		var v string
		var ok bool
		if len(p)+len(key) <= len(buf) {
			k := append(append(buf[:0], p...), key...)
			v, ok = props[string(k)] // no allocation: the compiler looks up []byte keys in place
		} else {
			v, ok = props[p+key]
		}
		if ok {
			return v
		}
	}
	return ""
}

// keysWithFallback lists the map's keys and, when the fallback applies, the
// un-prefixed names of prefixed keys, so propagators that scan keys (Jaeger
// baggage, for one) see the same view Get gives.
func keysWithFallback(props map[string]string, prefixes []string) []string {
	keys := Map(props).Keys()
	if _, plain := props[traceparentKey]; plain {
		return keys
	}
	for k := range props {
		for _, p := range prefixes {
			if len(k) > len(p) && k[:len(p)] == p {
				if _, dup := props[k[len(p):]]; !dup {
					keys = append(keys, k[len(p):])
				}
				break
			}
		}
	}
	return keys
}
