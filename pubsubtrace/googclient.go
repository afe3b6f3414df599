package pubsubtrace

import (
	"context"

	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace/carrier"
)

// The keys the Pub/Sub client's built-in tracing reads and writes: W3C Trace
// Context behind the "googclient_" prefix.
const (
	googTraceparent = carrier.GoogleClientPrefix + "traceparent"
	googTracestate  = carrier.GoogleClientPrefix + "tracestate"
)

// googInjector writes W3C Trace Context (the built-in tracing reads no
// baggage) under the keys the Pub/Sub client's built-in tracing reads,
// within the Pub/Sub attribute limits.
var googInjector = carrier.Injector{
	Propagator: propagation.TraceContext{},
	Limits:     carrier.PubSubLimits,
	KeyPrefix:  carrier.GoogleClientPrefix,
}

// addGoogleClientKeys returns props plus the span context of ctx under the
// built-in tracing's keys, so that a subscriber that relies on it alone
// continues the trace. props is never written: the result is a copy when
// anything was added.
func addGoogleClientKeys(ctx context.Context, props map[string]string) map[string]string {
	return googInjector.Inject(ctx, props)
}
