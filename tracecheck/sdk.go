package tracecheck

import (
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
