package tracecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrTraceNotFound is returned (wrapped) by the readers of trace backends
// when the backend does not hold the trace id.
var ErrTraceNotFound = errors.New("tracecheck: trace not found")

// findLimit caps how many traces [FindTraces] asks Jaeger for.
const findLimit = 1000

// maxResponseBytes bounds what is read from a backend so that a runaway
// response cannot exhaust memory. Tests lower it.
var maxResponseBytes = 64 << 20

// FetchTrace reads one trace from the Jaeger query API at baseURL (for
// example "http://127.0.0.1:16686") by its hex trace id. It returns
// ErrTraceNotFound (wrapped) when Jaeger has no such trace.
func FetchTrace(ctx context.Context, baseURL, traceID string) ([]Span, error) {
	return fetchJaeger(ctx, nil, baseURL, traceID)
}

func fetchJaeger(ctx context.Context, client *http.Client, baseURL, traceID string) ([]Span, error) {
	id, err := ParseTraceID(traceID)
	if err != nil {
		return nil, err
	}
	u, err := apiURL("Jaeger", baseURL, "/api/traces/"+id, nil)
	if err != nil {
		return nil, err
	}
	body, err := httpGet(ctx, client, "Jaeger", u)
	if err != nil {
		return nil, err
	}
	spans, err := decodeJaeger(body)
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrTraceNotFound, id)
	}
	return spans, nil
}

// FindTraces reads from the Jaeger query API at baseURL every trace in which
// service took part during the last lookback (up to 1000 traces), and returns
// all their spans, of every service, in one slice. Group them with
// [TraceIDs] or let [Check] insist that there is exactly one trace.
func FindTraces(ctx context.Context, baseURL, service string, lookback time.Duration) ([]Span, error) {
	return findJaeger(ctx, nil, baseURL, service, lookback)
}

func findJaeger(ctx context.Context, client *http.Client, baseURL, service string, lookback time.Duration) ([]Span, error) {
	if service == "" {
		return nil, errors.New("tracecheck: FindTraces needs a service name")
	}
	if lookback <= 0 {
		return nil, fmt.Errorf("tracecheck: FindTraces needs a positive lookback, got %v", lookback)
	}
	end := time.Now()
	params := url.Values{}
	params.Set("service", service)
	params.Set("start", strconv.FormatInt(end.Add(-lookback).UnixMicro(), 10))
	params.Set("end", strconv.FormatInt(end.UnixMicro(), 10))
	params.Set("limit", strconv.Itoa(findLimit))
	u, err := apiURL("Jaeger", baseURL, "/api/traces", params)
	if err != nil {
		return nil, err
	}
	body, err := httpGet(ctx, client, "Jaeger", u)
	if err != nil {
		return nil, err
	}
	return decodeJaeger(body)
}

func apiURL(backend, baseURL, path string, params url.Values) (string, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return "", fmt.Errorf("tracecheck: invalid %s URL %q: %w", backend, baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("tracecheck: invalid %s URL %q: want an http:// or https:// URL with a host", backend, baseURL)
	}
	u.Path += path
	u.RawQuery = params.Encode()
	return u.String(), nil
}

// httpGet performs one GET and returns the body of a 200 answer; a 404
// becomes ErrTraceNotFound. Without a client, each call uses its own
// transport without keep-alive so that no idle connection outlives it.
func httpGet(ctx context.Context, client *http.Client, backend, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("tracecheck: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if client == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.DisableKeepAlives = true
		defer transport.CloseIdleConnections()
		client = &http.Client{Transport: transport}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tracecheck: query %s: %w", backend, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(maxResponseBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("tracecheck: read %s response: %w", backend, err)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("tracecheck: %s response from %s exceeds %d bytes", backend, u, maxResponseBytes)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrTraceNotFound, u, snippet(body))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tracecheck: GET %s: %s: %s", u, resp.Status, snippet(body))
	}
	return body, nil
}

func snippet(body []byte) string {
	const limit = 512
	s := strings.TrimSpace(string(body))
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}

// jaegerResponse is the envelope of Jaeger's HTTP query API (the JSON the
// Jaeger UI reads): {"data": [trace...], "errors": [...]}.
type jaegerResponse struct {
	Data   []jaegerTrace `json:"data"`
	Errors []struct {
		Code    int    `json:"code"`
		Msg     string `json:"msg"`
		TraceID string `json:"traceID"`
	} `json:"errors"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string            `json:"traceID"`
	SpanID        string            `json:"spanID"`
	OperationName string            `json:"operationName"`
	References    []jaegerReference `json:"references"`
	// StartTime is microseconds since the Unix epoch; Duration microseconds.
	StartTime int64       `json:"startTime"`
	Duration  int64       `json:"duration"`
	Tags      []jaegerTag `json:"tags"`
	ProcessID string      `json:"processID"`
}

type jaegerReference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerTag struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type jaegerProcess struct {
	ServiceName string `json:"serviceName"`
}

// Tags that Jaeger derives from span fields rather than from attributes;
// they are mapped back to those fields and kept out of Attributes.
var derivedTags = map[string]bool{
	"span.kind":               true,
	"otel.status_code":        true,
	"otel.status_description": true,
	"error":                   true,
	"otel.scope.name":         true,
	"otel.scope.version":      true,
	"w3c.tracestate":          true,
}

// decodeJaeger converts a query API response into spans.
func decodeJaeger(body []byte) ([]Span, error) {
	var resp jaegerResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("tracecheck: decode Jaeger response: %w", err)
	}
	if len(resp.Errors) > 0 && len(resp.Data) == 0 {
		msgs := make([]string, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			msgs = append(msgs, fmt.Sprintf("%d %s", e.Code, e.Msg))
		}
		return nil, fmt.Errorf("tracecheck: Jaeger reported: %s", strings.Join(msgs, "; "))
	}
	var out []Span
	for _, t := range resp.Data {
		for _, js := range t.Spans {
			s, err := convertJaegerSpan(js, t.Processes)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func convertJaegerSpan(js jaegerSpan, processes map[string]jaegerProcess) (Span, error) {
	s := Span{
		TraceID: normalizeID(js.TraceID, 32),
		SpanID:  normalizeID(js.SpanID, 16),
		Name:    js.OperationName,
		// Jaeger writes no span.kind tag for OpenTelemetry's unspecified kind.
		Kind:     KindUnspecified,
		Start:    time.UnixMicro(js.StartTime).UTC(),
		Duration: time.Duration(max(js.Duration, 0)) * time.Microsecond,
	}
	if p, ok := processes[js.ProcessID]; ok {
		s.Service = p.ServiceName
	}
	s.ParentSpanID, s.Links = jaegerParentAndLinks(s.TraceID, js.References)
	for _, tag := range js.Tags {
		value, err := tagString(tag)
		if err != nil {
			return Span{}, fmt.Errorf("tracecheck: span %s tag %q: %w", s.SpanID, tag.Key, err)
		}
		switch tag.Key {
		case "span.kind":
			s.Kind = value
		case "otel.status_code":
			s.StatusError = s.StatusError || value == "ERROR"
		case "otel.status_description":
			s.StatusMessage = value
		case "error":
			s.StatusError = s.StatusError || value == "true"
		}
		if derivedTags[tag.Key] {
			continue
		}
		if s.Attributes == nil {
			s.Attributes = make(map[string]string, len(js.Tags))
		}
		s.Attributes[tag.Key] = value
	}
	return s, nil
}

// jaegerParentAndLinks recovers the OpenTelemetry parent and links from
// Jaeger references. Jaeger turns the parent into a CHILD_OF reference and
// each link into a FOLLOWS_FROM reference, except that a link to the parent
// itself replaces the parent's CHILD_OF reference by a FOLLOWS_FROM one. So
// the parent is the first CHILD_OF reference within the trace or, when there
// is none, the first FOLLOWS_FROM reference within the trace (the span the
// Jaeger UI draws as parent too), which is then also a link.
func jaegerParentAndLinks(traceID string, refs []jaegerReference) (parent string, links []Link) {
	parentIdx := -1
	for pass := 0; pass < 2 && parentIdx < 0; pass++ {
		for i, r := range refs {
			wantType := "CHILD_OF"
			if pass == 1 {
				wantType = "FOLLOWS_FROM"
			}
			if r.RefType == wantType && normalizeID(r.TraceID, 32) == traceID {
				parentIdx = i
				break
			}
		}
	}
	for i, r := range refs {
		l := Link{TraceID: normalizeID(r.TraceID, 32), SpanID: normalizeID(r.SpanID, 16)}
		if i == parentIdx {
			parent = l.SpanID
			if r.RefType == "CHILD_OF" {
				continue
			}
		}
		links = append(links, l)
	}
	return parent, links
}

// tagString renders a Jaeger tag value the way attribute.Value.String renders
// the corresponding OpenTelemetry attribute.
func tagString(tag jaegerTag) (string, error) {
	if len(tag.Value) == 0 {
		return "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(tag.Value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case nil:
		return "", nil
	default:
		return string(tag.Value), nil
	}
}

// normalizeID lower-cases a hex id and restores the leading zeros that
// Jaeger drops, so ids compare equal to the SDK's fixed-width form.
func normalizeID(id string, width int) string {
	id = strings.ToLower(id)
	if len(id) < width {
		id = strings.Repeat("0", width-len(id)) + id
	}
	return id
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
