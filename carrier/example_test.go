package carrier_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/carrier"
)

// A producer injects its context into a copy of the message attributes; a
// consumer extracts it and continues the same trace.
func Example() {
	w3c := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled,
	}))

	attributes := map[string]string{"order-id": "42"}
	sent := carrier.Injector{Propagator: w3c, Limits: carrier.PubSubLimits}.Inject(ctx, attributes)
	fmt.Println("caller's map:", attributes)
	fmt.Println("sent:", sent)

	received := carrier.Extractor{Propagator: w3c}.Extract(context.Background(), sent)
	fmt.Println("trace continues:", trace.SpanContextFromContext(received).TraceID())
	// Output:
	// caller's map: map[order-id:42]
	// sent: map[order-id:42 traceparent:00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01]
	// trace continues: 4bf92f3577b34da6a3ce929d0e0e4736
}

// Messages published by the Pub/Sub client's built-in tracing carry their
// context under googclient_ keys; Extract reads them when no plain
// traceparent is present.
func ExampleExtractor_Extract() {
	attributes := map[string]string{
		"googclient_traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	ctx := carrier.Extractor{Propagator: propagation.TraceContext{}}.Extract(context.Background(), attributes)
	sc := trace.SpanContextFromContext(ctx)
	fmt.Println(sc.TraceID(), sc.SpanID(), sc.IsSampled())
	// Output: 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7 true
}
