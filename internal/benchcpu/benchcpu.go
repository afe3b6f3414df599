// Package benchcpu lets benchmarks report the CPU time the whole process
// spent per operation, next to the wall-clock ns/op that testing reports.
// On a small shared machine wall time moves with the neighbours' load;
// CPU time counts only this process's work, background goroutines (span
// processors, exporters, client I/O loops) and garbage collection included.
package benchcpu

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Metric is the unit Measure reports, read by internal/cmd/benchab.
const Metric = "cpu-ns/op"

// Meter measures one benchmark's loop.
type Meter struct {
	b     *testing.B
	start time.Duration
}

// Start begins measuring; call it right before the b.Loop loop.
func Start(b *testing.B) *Meter {
	b.Helper()
	b.ReportAllocs()
	return &Meter{b: b, start: processCPU()}
}

// Stop reports the process's CPU time since Start divided by b.N. Call it
// right after the loop, before any cleanup.
func (m *Meter) Stop() {
	used := processCPU() - m.start
	if m.b.N > 0 && used > 0 {
		m.b.ReportMetric(float64(used.Nanoseconds())/float64(m.b.N), Metric)
	}
}

// Span is what hand-written tracing needs to start the same span the
// library starts: its name, kind and attributes.
type Span struct {
	Name  string
	Kind  trace.SpanKind
	Attrs []attribute.KeyValue
}

// Options are the start options of s, with the attributes except those
// named in late (which hand-written code sets when the outcome is known).
func (s Span) Options(late ...attribute.Key) []trace.SpanStartOption {
	attrs := make([]attribute.KeyValue, 0, len(s.Attrs))
next:
	for _, a := range s.Attrs {
		for _, k := range late {
			if a.Key == k {
				continue next
			}
		}
		attrs = append(attrs, a)
	}
	return []trace.SpanStartOption{trace.WithSpanKind(s.Kind), trace.WithAttributes(attrs...)}
}

// Record runs f with a tracer provider that samples and keeps every span,
// waits (up to ten seconds) until want spans have ended, since some end in
// the background, and returns them in the order they ended. The by-hand
// benchmarks use it to copy the library's span names and attributes, so
// both sides of a pair record the same telemetry.
func Record(want int, f func(tp trace.TracerProvider)) []Span {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	f(tp)
	for deadline := time.Now().Add(10 * time.Second); len(rec.Ended()) < want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	var out []Span
	for _, s := range rec.Ended() {
		out = append(out, Span{Name: s.Name(), Kind: s.SpanKind(), Attrs: s.Attributes()})
	}
	return out
}
