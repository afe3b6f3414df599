package tracecheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Source reads the spans of one trace from wherever they were recorded: a
// [Recorder] in the test's own process, or a trace backend
// ([NewJaegerSource], [NewTempoSource], [NewOTLPFileSource]).
type Source interface {
	// Trace returns the spans of the trace id known so far. A trace the
	// source does not hold (yet) gives no spans, or an error wrapping
	// ErrTraceNotFound.
	Trace(ctx context.Context, traceID string) ([]Span, error)
}

// SourceOption configures a Source reading from an HTTP API.
type SourceOption interface {
	applySource(*sourceConfig)
}

type sourceConfig struct {
	client *http.Client
}

type sourceOptionFunc func(*sourceConfig)

func (f sourceOptionFunc) applySource(c *sourceConfig) { f(c) }

// WithHTTPClient makes the source send its requests through client, for
// example one whose transport adds authentication. By default each request
// uses a fresh connection that is closed afterwards.
func WithHTTPClient(client *http.Client) SourceOption {
	if client == nil {
		panic("tracecheck.WithHTTPClient: client is nil")
	}
	return sourceOptionFunc(func(c *sourceConfig) { c.client = client })
}

func newSourceConfig(opts []SourceOption) sourceConfig {
	var c sourceConfig
	for _, o := range opts {
		if o != nil {
			o.applySource(&c)
		}
	}
	return c
}

// NewJaegerSource returns a Source reading from the HTTP query API of
// Jaeger (v1 or v2) at baseURL, for example "http://127.0.0.1:16686", as
// [FetchTrace] does. An invalid URL is reported by each call to Trace.
func NewJaegerSource(baseURL string, opts ...SourceOption) Source {
	return &jaegerSource{base: baseURL, cfg: newSourceConfig(opts)}
}

type jaegerSource struct {
	base string
	cfg  sourceConfig
}

func (s *jaegerSource) Trace(ctx context.Context, traceID string) ([]Span, error) {
	return fetchJaeger(ctx, s.cfg.client, s.base, traceID)
}

func (s *jaegerSource) String() string { return "Jaeger at " + s.base }

// NewTempoSource returns a Source reading from the HTTP API of Grafana
// Tempo at baseURL, for example "http://127.0.0.1:3200", as
// [FetchTempoTrace] does. An invalid URL is reported by each call to Trace.
func NewTempoSource(baseURL string, opts ...SourceOption) Source {
	return &tempoSource{base: baseURL, cfg: newSourceConfig(opts)}
}

type tempoSource struct {
	base string
	cfg  sourceConfig
}

func (s *tempoSource) Trace(ctx context.Context, traceID string) ([]Span, error) {
	return fetchTempo(ctx, s.cfg.client, s.base, traceID)
}

func (s *tempoSource) String() string { return "Tempo at " + s.base }

// NewOTLPFileSource returns a Source reading the file at path, written by
// the OpenTelemetry Collector's file exporter in JSON (see [ReadOTLPJSON]).
// Each call to Trace reads the file again, so it sees spans the collector
// appended since.
func NewOTLPFileSource(path string) Source {
	return otlpFileSource(path)
}

type otlpFileSource string

func (s otlpFileSource) Trace(_ context.Context, traceID string) ([]Span, error) {
	id, err := ParseTraceID(traceID)
	if err != nil {
		return nil, err
	}
	spans, err := ReadOTLPFile(string(s))
	if err != nil {
		return nil, err
	}
	var out []Span
	for _, sp := range spans {
		if sp.TraceID == id {
			out = append(out, sp)
		}
	}
	return out, nil
}

func (s otlpFileSource) String() string { return "OTLP file " + string(s) }

// ParseTraceID reads a trace id as a user may have it at hand: 32 hex
// digits (fewer are padded with leading zeros, as Jaeger prints them), or
// the value of a traceparent or traceresponse header
// ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), optionally
// still preceded by the header's name and a colon. It returns the id as 32
// lower-case hex digits.
func ParseTraceID(s string) (string, error) {
	v := strings.TrimSpace(s)
	if name, value, ok := strings.Cut(v, ":"); ok {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "traceparent", "traceresponse":
			v = strings.TrimSpace(value)
		}
	}
	v = strings.ToLower(v)
	if parts := strings.Split(v, "-"); len(parts) == 4 {
		if len(parts[0]) != 2 || !isHex(parts[0]) || parts[0] == "ff" || len(parts[1]) != 32 || len(parts[2]) != 16 ||
			!isHex(parts[2]) || len(parts[3]) != 2 || !isHex(parts[3]) {
			return "", fmt.Errorf("tracecheck: invalid trace context header value %q: want version-traceid-spanid-flags", s)
		}
		v = parts[1]
	}
	if v == "" || len(v) > 32 || !isHex(v) {
		return "", fmt.Errorf("tracecheck: invalid trace id %q: want 32 hex digits or a traceparent value", s)
	}
	v = strings.Repeat("0", 32-len(v)) + v
	if v == strings.Repeat("0", 32) {
		return "", fmt.Errorf("tracecheck: invalid trace id %q: all zeros", s)
	}
	return v, nil
}
