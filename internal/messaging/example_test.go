package messaging_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// An adapter's whole job: a send span around the client's send, and a
// process span around the user's handler, joined through the message's
// properties.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	in := messaging.New(messaging.Spec{Scope: "example.com/brokertrace", System: "pulsar"},
		config.Shared{TracerProvider: tp, Propagator: propagation.TraceContext{}})

	// Producer side.
	_, send, props := in.StartSend(context.Background(), in.Destination("orders", "", ""), map[string]string{"id": "42"}, 2)
	send.End("msg-1", nil) // after the client reported the message id

	// Consumer side, in another process, with the properties that arrived.
	_, proc := in.StartProcess(context.Background(), in.Destination("orders", "billing", ""), props, "msg-1", 2)
	proc.End(messaging.SettleAck, nil)

	s, p := spans.Ended()[0], spans.Ended()[1]
	fmt.Println(s.Name(), s.SpanKind(), "->", p.Name(), p.SpanKind())
	fmt.Println("same trace:", s.SpanContext().TraceID() == p.SpanContext().TraceID())
	fmt.Println("process is the child of send:", p.Parent().SpanID() == s.SpanContext().SpanID())
	// Output:
	// send orders producer -> process orders consumer
	// same trace: true
	// process is the child of send: true
}
