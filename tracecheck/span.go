package tracecheck

import (
	"sort"
	"time"
)

// Span kinds as they appear in [Span.Kind]: the lower-case OpenTelemetry
// names, which are also the values of Jaeger's span.kind tag.
const (
	KindInternal = "internal"
	KindServer   = "server"
	KindClient   = "client"
	KindProducer = "producer"
	KindConsumer = "consumer"
	// KindUnspecified is a span that has no kind set.
	KindUnspecified = "unspecified"
)

// Span is one span of a trace, independent of where it was read from.
// Identifiers are lower-case hex (32 digits for trace ids, 16 for span ids);
// an empty ParentSpanID marks a root span.
type Span struct {
	TraceID      string
	SpanID       string
	ParentSpanID string
	// Service is the service.name of the resource that produced the span.
	Service string
	Name    string
	// Kind is one of the Kind constants.
	Kind     string
	Start    time.Time
	Duration time.Duration
	// StatusError reports an error status; StatusMessage is its description.
	StatusError   bool
	StatusMessage string
	// Attributes holds the span's own attributes, every value in its string
	// form (numbers in decimal, booleans as true/false, slices as JSON).
	Attributes map[string]string
	Links      []Link
}

// Link is a reference from a span to another span, possibly in another trace.
type Link struct {
	TraceID string
	SpanID  string
}

// End returns the time the span ended.
func (s Span) End() time.Time { return s.Start.Add(s.Duration) }

// TraceIDs returns the distinct trace ids among spans, sorted.
func TraceIDs(spans []Span) []string {
	seen := make(map[string]bool)
	var ids []string
	for _, s := range spans {
		if !seen[s.TraceID] {
			seen[s.TraceID] = true
			ids = append(ids, s.TraceID)
		}
	}
	sort.Strings(ids)
	return ids
}

// sortSpans orders spans by start time, then name, service and span id, so
// that every listing of a trace is deterministic.
func sortSpans(spans []*Span) {
	sort.SliceStable(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.SpanID < b.SpanID
	})
}
