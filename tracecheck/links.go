package tracecheck

import (
	"context"
	"time"
)

// linkFollower is implemented by sources that can find the traces linked
// to a trace: the traces a consumer started with a link to the producer's
// span. Await uses it when the expectation has linked roots, since reading
// a trace by its id never returns them.
type linkFollower interface {
	// followLinks returns the spans of every other trace that links into
	// spans, directly or through other such traces. services names the
	// services expected to start those traces.
	followLinks(ctx context.Context, spans []Span, services []string) ([]Span, error)
}

// linkedServices returns the services of the linked roots of x.
func (x Expectation) linkedServices() []string {
	var out []string
	seen := make(map[string]bool)
	for _, e := range x.Spans {
		if e.linkedRoot() && !seen[e.Service] {
			seen[e.Service] = true
			out = append(out, e.Service)
		}
	}
	return out
}

// linkedFrom returns the spans of the traces among all, other than those
// of spans, that link into spans or into a trace returned already.
func linkedFrom(spans, all []Span) []Span {
	type key struct{ trace, span string }
	known := make(map[key]bool)
	have := make(map[string]bool)
	for _, s := range spans {
		known[key{s.TraceID, s.SpanID}] = true
		have[s.TraceID] = true
	}
	byTrace := make(map[string][]Span)
	var order []string
	for _, s := range all {
		if have[s.TraceID] {
			continue
		}
		if _, ok := byTrace[s.TraceID]; !ok {
			order = append(order, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	var out []Span
	for changed := true; changed; {
		changed = false
		for _, id := range order {
			if have[id] {
				continue
			}
			linked := false
			for _, s := range byTrace[id] {
				for _, l := range s.Links {
					linked = linked || known[key{l.TraceID, l.SpanID}]
				}
			}
			if !linked {
				continue
			}
			have[id], changed = true, true
			for _, s := range byTrace[id] {
				known[key{s.TraceID, s.SpanID}] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func (r *Recorder) followLinks(_ context.Context, spans []Span, _ []string) ([]Span, error) {
	return linkedFrom(spans, r.Spans()), nil
}

func (s otlpFileSource) followLinks(_ context.Context, spans []Span, _ []string) ([]Span, error) {
	all, err := ReadOTLPFile(string(s))
	if err != nil {
		return nil, err
	}
	return linkedFrom(spans, all), nil
}

// followLinks searches Jaeger for the traces of the linked services since
// shortly before the trace started.
func (s *jaegerSource) followLinks(ctx context.Context, spans []Span, services []string) ([]Span, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	start := spans[0].Start
	for _, sp := range spans {
		if sp.Start.Before(start) {
			start = sp.Start
		}
	}
	lookback := time.Since(start) + time.Minute
	var all []Span
	for _, svc := range services {
		found, err := findJaeger(ctx, s.cfg.client, s.base, svc, lookback)
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	return linkedFrom(spans, dedupe(all)), nil
}

// dedupe drops repeated spans (a trace found through two services).
func dedupe(spans []Span) []Span {
	type key struct{ trace, span string }
	seen := make(map[key]bool, len(spans))
	out := spans[:0:0]
	for _, s := range spans {
		k := key{s.TraceID, s.SpanID}
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
