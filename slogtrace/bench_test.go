package slogtrace_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/slogtrace"
)

// BenchmarkLog measures one InfoContext call with two attributes through a
// JSONHandler writing to io.Discard, bare and wrapped.
func BenchmarkLog(b *testing.B) {
	inSpan := trace.ContextWithSpanContext(context.Background(), fixedSpan)
	noSpan := context.Background()
	bare := slog.NewJSONHandler(io.Discard, nil)
	wrapped := slogtrace.WrapHandler(bare)

	run := func(name string, h slog.Handler, ctx context.Context) {
		b.Run(name, func(b *testing.B) {
			log := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				log.InfoContext(ctx, "order accepted", "order", 42, "customer", "ada")
			}
		})
	}
	run("bare", bare, inSpan)
	run("wrapped_no_span", wrapped, noSpan)
	run("wrapped_in_span", wrapped, inSpan)
	run("bare_group", bare.WithAttrs([]slog.Attr{slog.String("svc", "orders")}).WithGroup("req"), inSpan)
	run("wrapped_group_no_span", wrapped.WithAttrs([]slog.Attr{slog.String("svc", "orders")}).WithGroup("req"), noSpan)
	run("wrapped_group_in_span", wrapped.WithAttrs([]slog.Attr{slog.String("svc", "orders")}).WithGroup("req"), inSpan)
}
