package tracecheck_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/asynctrace/asynctrace/tracecheck"
)

func ExampleRender() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	spans := []tracecheck.Span{
		{TraceID: id, SpanID: "00f067aa0ba902b7", Service: "shop", Name: "POST /orders",
			Kind: tracecheck.KindServer, Start: start, Duration: 8 * time.Millisecond},
		{TraceID: id, SpanID: "00f067aa0ba902b8", ParentSpanID: "00f067aa0ba902b7", Service: "shop", Name: "send orders",
			Kind: tracecheck.KindProducer, Start: start.Add(time.Millisecond), Duration: time.Millisecond},
		{TraceID: id, SpanID: "00f067aa0ba902b9", ParentSpanID: "00f067aa0ba902b8", Service: "billing", Name: "process orders",
			Kind: tracecheck.KindConsumer, Start: start.Add(4 * time.Millisecond), Duration: 4 * time.Millisecond},
	}
	if err := tracecheck.Render(os.Stdout, spans); err != nil {
		fmt.Println(err)
	}
	// Output:
	// trace 4bf92f3577b34da6a3ce929d0e0e4736  3 spans, 2 services, 8.000ms
	// SPAN                  SERVICE  KIND      DURATION  STATUS  TIMELINE
	// POST /orders          shop     server     8.000ms  ok      |========================================|
	// `- send orders        shop     producer   1.000ms  ok      |     =====                              |
	//    `- process orders  billing  consumer   4.000ms  ok      |                    ====================|
}

func ExampleCheck() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	spans := []tracecheck.Span{
		{TraceID: id, SpanID: "00f067aa0ba902b7", Service: "shop", Name: "send orders",
			Kind: tracecheck.KindProducer, Start: start, Duration: time.Millisecond},
		{TraceID: id, SpanID: "00f067aa0ba902b9", ParentSpanID: "00f067aa0ba902b8", Service: "billing", Name: "process orders",
			Kind: tracecheck.KindConsumer, Start: start.Add(2 * time.Millisecond), Duration: time.Millisecond},
	}
	err := tracecheck.Check(spans, tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		{Service: "shop", Name: "send orders", Kind: tracecheck.KindProducer},
		{Service: "billing", Name: "process orders", Kind: tracecheck.KindConsumer,
			Parent: tracecheck.SpanRef{Service: "shop", Name: "send orders"}},
	}})
	fmt.Println(err)
	// Output:
	// trace does not match the expectation (2 problems):
	//   orphan: billing "process orders" (consumer), span 00f067aa0ba902b9: parent 00f067aa0ba902b8 is not in the trace
	//   wrong parent: billing "process orders", span 00f067aa0ba902b9: want shop "send orders", found missing span 00f067aa0ba902b8
	// expected:
	//   ok       shop:send orders (producer)
	//   WRONG      > billing:process orders (consumer)
	// found:
	//   trace 4bf92f3577b34da6a3ce929d0e0e4736  2 spans, 2 services, 3.000ms
	//   SPAN                     SERVICE  KIND      DURATION  STATUS  TIMELINE
	//   send orders              shop     producer   1.000ms  ok      |==============                          |
	//   (orphan) process orders  billing  consumer   1.000ms  ok      |                          ==============|  parent 00f067aa0ba902b8 not in trace
}

// The chain syntax of the tracecheck command, here with a consumer that
// starts its own trace with a link to the producer, attributes, and other
// spans allowed below the worker's process span.
func ExampleParse() {
	want, err := tracecheck.Parse(`gateway:POST /v1/process (server) {http.response.status_code=202}
		> gateway:send jobs (producer) {messaging.system=pulsar, messaging.message.id}
		~> worker:process jobs (consumer) >> worker:UPDATE jobs (client)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range want.Spans {
		fmt.Printf("%s %q kind=%q parent=%v indirect=%v links=%v attributes=%v\n",
			s.Service, s.Name, s.Kind, s.Parent, s.Indirect, s.Links, s.Attributes)
	}
	fmt.Println(want)
	// Output:
	// gateway "POST /v1/process" kind="server" parent=(root) indirect=false links=[] attributes=map[http.response.status_code:202]
	// gateway "send jobs" kind="producer" parent=gateway "POST /v1/process" indirect=false links=[] attributes=map[messaging.message.id: messaging.system:pulsar]
	// worker "process jobs" kind="consumer" parent=(root) indirect=false links=[gateway "send jobs"] attributes=map[]
	// worker "UPDATE jobs" kind="client" parent=worker "process jobs" indirect=true links=[] attributes=map[]
	// gateway:POST /v1/process (server) {http.response.status_code=202} > gateway:send jobs (producer) {messaging.message.id, messaging.system=pulsar} ~> worker:process jobs (consumer) >> worker:UPDATE jobs (client)
}

// A tree exporter on a development tracer provider prints each request's
// spans as a tree once its server span has ended.
func ExampleNewTreeExporter() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracecheck.NewTreeExporter(os.Stderr)))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	otel.SetTracerProvider(tp)
}
