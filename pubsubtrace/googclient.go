package pubsubtrace

import (
	"context"
	"maps"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/carrier"
)

// The keys the Pub/Sub client's built-in tracing reads and writes: W3C Trace
// Context behind the "googclient_" prefix.
const (
	googTraceparent = carrier.GoogleClientPrefix + "traceparent"
	googTracestate  = carrier.GoogleClientPrefix + "tracestate"
)

// addGoogleClientKeys writes the span context of ctx as W3C Trace Context
// under the keys the built-in tracing of the Pub/Sub client reads, so that a
// subscriber that relies on it alone continues the trace. orig is the
// caller's map and is never written: when props is still orig, the result is
// a copy. The Pub/Sub attribute limits are kept.
func addGoogleClientKeys(ctx context.Context, orig, props map[string]string) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return props
	}
	w := googWriter{props: props, owned: props != nil && !sameMap(orig, props)}
	propagation.TraceContext{}.Inject(ctx, &w)
	if w.wroteParent && !w.wroteState {
		if _, stale := w.props[googTracestate]; stale {
			w.own()
			delete(w.props, googTracestate)
		}
	}
	return w.props
}

// sameMap reports whether a and b are the same map (not merely equal).
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// googWriter is the carrier TraceContext writes into: it prefixes the keys
// and copies the map before the first write unless it already owns it.
type googWriter struct {
	props       map[string]string
	owned       bool
	wroteParent bool
	wroteState  bool
}

func (w *googWriter) own() {
	if !w.owned {
		dst := make(map[string]string, len(w.props)+2)
		maps.Copy(dst, w.props)
		w.props, w.owned = dst, true
	}
}

func (w *googWriter) Get(key string) string { return w.props[carrier.GoogleClientPrefix+key] }

func (w *googWriter) Set(key, value string) {
	var k string
	switch key {
	case "traceparent":
		k = googTraceparent
	case "tracestate":
		k = googTracestate
	default:
		k = carrier.GoogleClientPrefix + key
	}
	lim := carrier.PubSubLimits
	_, replacing := w.props[k]
	switch {
	case len(value) > lim.MaxValueBytes:
		otel.Handle(&carrier.LimitError{Key: k, Reason: "value longer than the Pub/Sub limit"})
		return
	case !replacing && len(w.props) >= lim.MaxEntries:
		otel.Handle(&carrier.LimitError{Key: k, Reason: "message already has the most attributes Pub/Sub allows"})
		return
	}
	w.own()
	w.props[k] = value
	switch key {
	case "traceparent":
		w.wroteParent = true
	case "tracestate":
		w.wroteState = true
	}
}

func (w *googWriter) Keys() []string { return carrier.Map(w.props).Keys() }
