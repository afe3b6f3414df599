package slogtrace_test

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/slogtrace"
)

func Example() {
	// Drop the timestamp so that the output is stable.
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slogtrace.WrapHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})))

	// In a service the span comes from a tracer or from incoming
	// middleware; a fixed span context keeps the example deterministic.
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

	logger.InfoContext(ctx, "order accepted", "order", 42)
	logger.WithGroup("request").InfoContext(ctx, "grouped", "method", "GET")
	logger.InfoContext(context.Background(), "outside any span")
	// Output:
	// {"level":"INFO","msg":"order accepted","order":42,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}
	// {"level":"INFO","msg":"grouped","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01","request":{"method":"GET"}}
	// {"level":"INFO","msg":"outside any span"}
}
