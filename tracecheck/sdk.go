package tracecheck

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

const serviceNameKey = attribute.Key("service.name")

// FromSDK converts spans recorded by the OpenTelemetry SDK (for example by
// tracetest.SpanRecorder or tracetest.InMemoryExporter) into the neutral
// model. The service is the service.name attribute of each span's resource.
func FromSDK(spans []sdktrace.ReadOnlySpan) []Span {
	out := make([]Span, 0, len(spans))
	for _, s := range spans {
		if s == nil {
			continue
		}
		sc := s.SpanContext()
		span := Span{
			TraceID:       sc.TraceID().String(),
			SpanID:        sc.SpanID().String(),
			Name:          s.Name(),
			Kind:          s.SpanKind().String(),
			Start:         s.StartTime(),
			StatusError:   s.Status().Code == codes.Error,
			StatusMessage: s.Status().Description,
		}
		// A span still running (zero end time) gets no duration rather than a
		// negative one.
		if end := s.EndTime(); end.After(s.StartTime()) {
			span.Duration = end.Sub(s.StartTime())
		}
		if p := s.Parent(); p.SpanID().IsValid() {
			span.ParentSpanID = p.SpanID().String()
		}
		if v, ok := s.Resource().Set().Value(serviceNameKey); ok {
			span.Service = v.String()
		}
		if attrs := s.Attributes(); len(attrs) > 0 {
			span.Attributes = make(map[string]string, len(attrs))
			for _, kv := range attrs {
				span.Attributes[string(kv.Key)] = kv.Value.String()
			}
		}
		for _, l := range s.Links() {
			span.Links = append(span.Links, Link{
				TraceID: l.SpanContext.TraceID().String(),
				SpanID:  l.SpanContext.SpanID().String(),
			})
		}
		out = append(out, span)
	}
	return out
}

// Recorder is an OpenTelemetry SDK span processor that keeps every span as
// it ends, converted by [FromSDK]. Install it on the tracer providers of a
// test (sdktrace.WithSpanProcessor(rec)), run the request, then check
// [Recorder.Spans] or hand the recorder to [Await] as a [Source] when spans
// end on other goroutines. It is safe for concurrent use and keeps spans
// until [Recorder.Reset]; it is meant for tests, not for production.
type Recorder struct {
	mu    sync.Mutex
	spans []Span
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

var _ sdktrace.SpanProcessor = (*Recorder)(nil)

// OnStart does nothing: spans are recorded when they end.
func (r *Recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd records the span.
func (r *Recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	converted := FromSDK([]sdktrace.ReadOnlySpan{s})
	r.mu.Lock()
	r.spans = append(r.spans, converted...)
	r.mu.Unlock()
}

// Shutdown does nothing; the recorded spans stay readable.
func (r *Recorder) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing: spans are recorded synchronously as they end.
func (r *Recorder) ForceFlush(context.Context) error { return nil }

// Spans returns a copy of every span recorded so far, in the order they
// ended.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Trace returns the recorded spans of one trace id, and no error: a trace
// with no ended span yet is simply empty. It makes the Recorder a [Source].
func (r *Recorder) Trace(_ context.Context, traceID string) ([]Span, error) {
	id := strings.ToLower(strings.TrimSpace(traceID))
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Span
	for _, s := range r.spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out, nil
}

// Reset forgets every recorded span.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}
