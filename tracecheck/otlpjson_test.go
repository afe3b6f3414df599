package tracecheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testdata/otlp_traces.jsonl is written as the Collector's file exporter
// writes OTLP/JSON: one ExportTraceServiceRequest per line, hex ids, kinds
// and status codes as integers, 64-bit integers as strings (and, in the
// second line, as numbers, which receivers accept too).
const otlpTrace = "5b8efff798038103d269b633813fc60c"

func TestReadOTLPFile(t *testing.T) {
	spans, err := ReadOTLPFile("testdata/otlp_traces.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 4 {
		t.Fatalf("read %d spans, want 4", len(spans))
	}
	by := make(map[string]Span)
	for _, s := range spans {
		by[s.Name] = s
	}
	root, send, process, tick := by["POST /v1/process"], by["send jobs"], by["process jobs"], by["tick"]
	if root.TraceID != otlpTrace || root.SpanID != "eee19b7ec3c1b174" || root.ParentSpanID != "" || root.Service != "gateway" || root.Kind != KindServer {
		t.Errorf("root = %+v", root)
	}
	if want := time.Unix(1544712660, 0).UTC(); !root.Start.Equal(want) || root.Duration != time.Second {
		t.Errorf("root start %v duration %v", root.Start, root.Duration)
	}
	if !equalMaps(root.Attributes, map[string]string{"http.request.method": "POST", "http.response.status_code": "202"}) {
		t.Errorf("root attributes = %v", root.Attributes)
	}
	wantAttrs := map[string]string{"messaging.system": "pulsar", "messaging.batch.message_count": "3", "ratio": "0.25",
		"retry": "false", "tags": `["a","b"]`, "flags": "[true false]"}
	if send.ParentSpanID != root.SpanID || send.Kind != KindProducer || send.StatusError || !equalMaps(send.Attributes, wantAttrs) {
		t.Errorf("send = %+v, want attributes %v", send, wantAttrs)
	}
	// Upper-case hex is read as the same id.
	if process.TraceID != otlpTrace || process.ParentSpanID != send.SpanID || process.Service != "worker" || process.Kind != KindConsumer ||
		!process.StatusError || process.StatusMessage != "handler failed" || process.Duration != 500*time.Millisecond {
		t.Errorf("process = %+v", process)
	}
	if len(process.Links) != 1 || process.Links[0] != (Link{TraceID: otlpTrace, SpanID: send.SpanID}) {
		t.Errorf("process links = %+v", process.Links)
	}
	if tick.TraceID != "0af7651916cd43dd8448eb211c80319c" || tick.Kind != KindInternal || tick.Duration != time.Microsecond || tick.Service != "cron" {
		t.Errorf("tick = %+v", tick)
	}
	if err := Check(spans, MustParse("gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer, error, link gateway:send jobs)")); err == nil {
		t.Error("Check accepted the stray trace of cron")
	}
}

func TestOTLPFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "traces.json")
	full, err := os.ReadFile("testdata/otlp_traces.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(full), "\n")
	// The collector has written the gateway's spans and is in the middle
	// of the worker's line.
	if err := os.WriteFile(path, []byte(lines[0]+lines[1][:100]), 0o644); err != nil {
		t.Fatal(err)
	}
	src := NewOTLPFileSource(path)
	spans, err := src.Trace(context.Background(), "00-"+otlpTrace+"-eee19b7ec3c1b174-01")
	if err != nil || len(spans) != 2 {
		t.Fatalf("Trace = %d spans, %v; want the 2 complete ones", len(spans), err)
	}
	if err := os.WriteFile(path, full, 0o644); err != nil {
		t.Fatal(err)
	}
	want := MustParse("gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer, error, link gateway:send jobs)")
	got, err := Await(context.Background(), src, otlpTrace, want, WithSettle(time.Hour), WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if len(got) != 3 {
		t.Errorf("Await returned %d spans, want 3", len(got))
	}
	if _, err := NewOTLPFileSource(filepath.Join(dir, "missing.json")).Trace(context.Background(), otlpTrace); err == nil {
		t.Error("reading a missing file gave no error")
	}
}

func TestReadOTLPJSONRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		"not json":         `{"resourceSpans": [}` + "\n{}",
		"bad trace id":     `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"eee19b7ec3c1b174"}]}]}]}`,
		"missing trace id": `{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b174"}]}]}]}`,
		"short span id":    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee1"}]}]}]}`,
		"bad kind":         `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","kind":9}]}]}]}`,
		"bad kind name":    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","kind":"SPAN_KIND_NOPE"}]}]}]}`,
		"bad time":         `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"-1"}]}]}]}`,
		"bad int":          `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"n","value":{"intValue":"x"}}]}]}]}]}`,
	}
	for name, in := range cases {
		if spans, err := ReadOTLPJSON(strings.NewReader(in)); err == nil {
			t.Errorf("%s: read %d spans and no error", name, len(spans))
		}
	}
	// An empty input and a record broken off at the end are not errors.
	for _, in := range []string{"", "\n", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e`} {
		if spans, err := ReadOTLPJSON(strings.NewReader(in)); err != nil || len(spans) != 0 {
			t.Errorf("ReadOTLPJSON(%q) = %v, %v", in, spans, err)
		}
	}
}

// tempoTrace is an answer of Tempo's GET /api/traces/{id}, in the format
// its API documentation shows: spans under "batches", ids in base64 (the
// protobuf JSON mapping), kinds and status codes by name, 64-bit integers
// as strings, and the pre-1.0 "instrumentationLibrarySpans" in one batch.
const tempoTrace = `{
  "batches": [
    {
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "gateway"}}]},
      "scopeSpans": [{
        "scope": {"name": "httptrace"},
        "spans": [
          {"traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": "7uGbfsPBsXQ=", "name": "POST /v1/process",
           "kind": "SPAN_KIND_SERVER", "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000",
           "attributes": [{"key": "http.response.status_code", "value": {"intValue": "202"}}], "status": {}},
          {"traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": "7uGbfsPBsXU=", "parentSpanId": "7uGbfsPBsXQ=", "name": "send jobs",
           "kind": "SPAN_KIND_PRODUCER", "startTimeUnixNano": "1544712660100000000", "endTimeUnixNano": "1544712660200000000"}
        ]
      }]
    },
    {
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "worker"}}]},
      "instrumentationLibrarySpans": [{
        "instrumentationLibrary": {"name": "pulsartrace"},
        "spans": [
          {"traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": "7uGbfsPBsXY=", "parentSpanId": "7uGbfsPBsXU=", "name": "process jobs",
           "kind": "SPAN_KIND_CONSUMER", "startTimeUnixNano": "1544712660300000000", "endTimeUnixNano": "1544712660800000000",
           "status": {"code": "STATUS_CODE_ERROR", "message": "handler failed"}}
        ]
      }]
    }
  ]
}`

// fakeTempo serves Tempo's trace-by-id endpoint for otlpTrace, answering
// body (or a 404 for other ids) and counting requests.
func fakeTempo(t *testing.T, body func() string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/traces/"+otlpTrace {
			http.Error(w, "trace not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchTempoTrace(t *testing.T) {
	srv := fakeTempo(t, func() string { return tempoTrace })
	spans, err := FetchTempoTrace(context.Background(), srv.URL+"/", strings.ToUpper(otlpTrace))
	if err != nil {
		t.Fatal(err)
	}
	want := MustParse("gateway:POST /v1/process (server) {http.response.status_code=202} > gateway:send jobs (producer) > worker:process jobs (consumer, error)")
	want.TraceID = otlpTrace
	if err := Check(spans, want); err != nil {
		t.Fatalf("Check:\n%v", err)
	}
	for _, s := range spans {
		if s.Name == "process jobs" && (s.SpanID != "eee19b7ec3c1b176" || s.ParentSpanID != "eee19b7ec3c1b175" || s.StatusMessage != "handler failed") {
			t.Errorf("process = %+v", s)
		}
	}

	// Tempo's /api/v2 answer wraps the same lists in "trace".
	v2 := fakeTempo(t, func() string {
		return `{"trace": {"resourceSpans": ` + strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(tempoTrace), `{
  "batches": `), "}") + `}, "status": "COMPLETE"}`
	})
	if spans, err := FetchTempoTrace(context.Background(), v2.URL, otlpTrace); err != nil || len(spans) != 3 {
		t.Errorf("v2 answer: %d spans, %v", len(spans), err)
	}

	_, err = FetchTempoTrace(context.Background(), srv.URL, "0af7651916cd43dd8448eb211c80319c")
	if !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("unknown trace: %v, want ErrTraceNotFound", err)
	}
	empty := fakeTempo(t, func() string { return `{"batches": []}` })
	if _, err := FetchTempoTrace(context.Background(), empty.URL, otlpTrace); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("empty answer: %v, want ErrTraceNotFound", err)
	}
	broken := fakeTempo(t, func() string { return `{"batches": [{"scopeSpans": [{"spans": [{"traceId": "!!"}]}]}]}` })
	if _, err := FetchTempoTrace(context.Background(), broken.URL, otlpTrace); err == nil || errors.Is(err, ErrTraceNotFound) {
		t.Errorf("malformed answer: %v, want a decode error", err)
	}
	for _, base := range []string{"", "localhost:3200", "ftp://x"} {
		if _, err := FetchTempoTrace(context.Background(), base, otlpTrace); err == nil || !strings.Contains(err.Error(), "invalid Tempo URL") {
			t.Errorf("base %q: %v", base, err)
		}
	}
}

func TestTempoSourceAwaitsTheWholeTrace(t *testing.T) {
	// The first answers hold only the gateway's batch, as while the
	// worker's spans are still on their way.
	var calls atomic.Int32
	srv := fakeTempo(t, func() string {
		if calls.Add(1) < 3 {
			return tempoTrace[:strings.Index(tempoTrace, `,
    {
      "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "worker"`)] + "]}"
		}
		return tempoTrace
	})
	want := MustParse("gateway:POST /v1/process > gateway:send jobs > worker:process jobs (error)")
	spans, err := Await(context.Background(), NewTempoSource(srv.URL, WithHTTPClient(srv.Client())), otlpTrace, want,
		WithSettle(time.Hour), WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if len(spans) != 3 || calls.Load() != 3 {
		t.Errorf("Await: %d spans after %d calls, want 3 after 3", len(spans), calls.Load())
	}
}
