package tracecheck_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/tracecheck"
)

// A test records the spans of two services in memory and checks that the
// request kept one trace across the message between them. In a go test,
// tracecheck.Assert(t, rec.Spans(), want) fails the test with the report
// that Check returns here.
func Example() {
	ctx := context.Background()
	rec := tracecheck.NewRecorder()
	provider := func(service string) *sdktrace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
	}
	gateway, worker := provider("gateway"), provider("worker")
	defer func() { _ = gateway.Shutdown(ctx); _ = worker.Shutdown(ctx) }()

	// The gateway handles a request and publishes a message, with the
	// trace context in the message's properties.
	reqCtx, server := gateway.Tracer("example").Start(ctx, "POST /v1/process", trace.WithSpanKind(trace.SpanKindServer))
	sendCtx, send := gateway.Tracer("example").Start(reqCtx, "send jobs", trace.WithSpanKind(trace.SpanKindProducer))
	props := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(sendCtx, props)
	send.End()
	server.End()
	// The worker consumes it.
	msgCtx := propagation.TraceContext{}.Extract(ctx, props)
	_, process := worker.Tracer("example").Start(msgCtx, "process jobs", trace.WithSpanKind(trace.SpanKindConsumer))
	process.End()

	want := tracecheck.MustParse("gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)")
	if err := tracecheck.Check(rec.Spans(), want); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("one trace from the gateway to the worker")
	// Output:
	// one trace from the gateway to the worker
}
