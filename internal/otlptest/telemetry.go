package otlptest

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// Scope identifies the instrumentation scope that produced telemetry.
type Scope struct {
	// Name is the scope (instrumentation library) name.
	Name string
	// Version is the scope version.
	Version string
}

// Span is one span as decoded from an export request.
type Span struct {
	// Resource holds the attributes of the resource the span was exported
	// with, service.name among them.
	Resource attribute.Set
	// Scope is the instrumentation scope that created the span.
	Scope Scope
	// Name is the span name.
	Name string
	// Kind is the span kind.
	Kind trace.SpanKind
	// TraceID is the trace the span belongs to.
	TraceID trace.TraceID
	// SpanID identifies the span.
	SpanID trace.SpanID
	// ParentSpanID is the parent span's ID; it is invalid for a root span.
	ParentSpanID trace.SpanID
	// TraceState is the W3C tracestate of the span.
	TraceState string
	// StartTime and EndTime bound the span.
	StartTime, EndTime time.Time
	// Attributes are the span attributes.
	Attributes attribute.Set
	// Events are the span events in recorded order.
	Events []Event
	// Links are the span links in recorded order.
	Links []Link
	// Status is the span status.
	Status Status
}

// ServiceName returns the service.name resource attribute, or "" when absent.
func (s Span) ServiceName() string {
	v, _ := s.Resource.Value("service.name")
	return v.AsString()
}

// Event is a span event.
type Event struct {
	// Name is the event name, for example "exception".
	Name string
	// Time is when the event happened.
	Time time.Time
	// Attributes are the event attributes.
	Attributes attribute.Set
}

// Link is a span link.
type Link struct {
	// TraceID and SpanID identify the linked span.
	TraceID trace.TraceID
	SpanID  trace.SpanID
	// TraceState is the linked span's tracestate.
	TraceState string
	// Attributes are the link attributes.
	Attributes attribute.Set
}

// Status is a span status.
type Status struct {
	// Code is Unset, Error or Ok.
	Code codes.Code
	// Message describes an error status.
	Message string
}

// Metric is one metric as decoded from an export request.
type Metric struct {
	// Resource holds the attributes of the resource the metric was exported
	// with.
	Resource attribute.Set
	// Scope is the instrumentation scope (meter) that created the metric.
	Scope Scope
	// Name, Description and Unit describe the instrument.
	Name, Description, Unit string
	// Type is "gauge", "sum", "histogram", "exponential_histogram" or
	// "summary".
	Type string
	// DataPoints is the number of data points in this export.
	DataPoints int
	// Proto is the decoded OTLP message, for assertions on data points.
	Proto *metricpb.Metric
}

// LogRecord is one log record as decoded from an export request.
type LogRecord struct {
	// Resource holds the attributes of the resource the record was exported
	// with.
	Resource attribute.Set
	// Scope is the instrumentation scope (logger) that emitted the record.
	Scope Scope
	// Time is when the event occurred; ObservedTime is when it was observed.
	Time, ObservedTime time.Time
	// SeverityNumber is the OTLP severity (9 = INFO, 13 = WARN, 17 = ERROR).
	SeverityNumber int32
	// SeverityText is the original severity name, for example "INFO".
	SeverityText string
	// Body is the record body; non-string bodies are rendered as text.
	Body string
	// EventName is the event name, when the record is an event.
	EventName string
	// Attributes are the record attributes.
	Attributes attribute.Set
	// TraceID and SpanID correlate the record with the active span, if any.
	TraceID trace.TraceID
	SpanID  trace.SpanID
}
