package tracecheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const linkChain = "gateway:POST /v1/process > gateway:send jobs ~> worker:process jobs (consumer) > worker:UPDATE jobs"

func TestAwaitFollowsLinksInRecorder(t *testing.T) {
	w := newHopWorld(t)
	id := w.request(context.Background(), hop{link: true})
	// Unrelated traffic of the worker must not be taken in.
	w.request(context.Background(), hop{})
	spans, err := Await(context.Background(), w.rec, id, MustParse(linkChain), fastPoll)
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if ids := TraceIDs(spans); len(spans) != 4 || len(ids) != 2 {
		t.Errorf("Await: %d spans in traces %v, want 4 in 2", len(spans), ids)
	}
	if got := renderString(spans); !strings.Contains(got, "link -> gateway send jobs in trace "+id) {
		t.Errorf("the link to the other trace is not named:\n%s", got)
	}
	// Without a linked root in the expectation only the trace itself is read.
	spans, err = Await(context.Background(), w.rec, id, MustParse("gateway:POST /v1/process > gateway:send jobs"), fastPoll)
	if err != nil || len(spans) != 2 {
		t.Errorf("Await = %d spans, %v", len(spans), err)
	}
}

func TestAwaitFollowsLinksInOTLPFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.json")
	const file = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gateway"}}]},"scopeSpans":[{"spans":[` +
		`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"POST /v1/process","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"9"},` +
		`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"send jobs","kind":4,"startTimeUnixNano":"2","endTimeUnixNano":"3"}]}]}]}
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"worker"}}]},"scopeSpans":[{"spans":[` +
		`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7","name":"process jobs","kind":5,"startTimeUnixNano":"4","endTimeUnixNano":"8",` +
		`"links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175"}]},` +
		`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b8","parentSpanId":"00f067aa0ba902b7","name":"UPDATE jobs","kind":3,"startTimeUnixNano":"5","endTimeUnixNano":"6"},` +
		`{"traceId":"1af7651916cd43dd8448eb211c80319c","spanId":"10f067aa0ba902b7","name":"process jobs","kind":5,"startTimeUnixNano":"4","endTimeUnixNano":"8"}]}]}]}
`
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	spans, err := Await(context.Background(), NewOTLPFileSource(path), "5b8efff798038103d269b633813fc60c", MustParse(linkChain),
		fastPoll, WithSettle(time.Millisecond))
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if len(spans) != 4 {
		t.Errorf("Await: %d spans, want 4", len(spans))
	}
}

func TestLinkedFromFollowsChains(t *testing.T) {
	a := Span{TraceID: "a", SpanID: "1"}
	b := Span{TraceID: "b", SpanID: "2", Links: []Link{{TraceID: "c", SpanID: "3"}}} // links to c, which links to a
	c := Span{TraceID: "c", SpanID: "3", Links: []Link{{TraceID: "a", SpanID: "1"}}}
	d := Span{TraceID: "d", SpanID: "4", Links: []Link{{TraceID: "x", SpanID: "9"}}}
	got := linkedFrom([]Span{a}, []Span{a, b, c, d})
	if len(got) != 2 || got[0].TraceID != "c" || got[1].TraceID != "b" {
		t.Errorf("linkedFrom = %+v, want c then b", got)
	}
}

// jaegerLinkedTraces is what Jaeger answers for the two traces of a
// request whose consumer linked to the producer: by id for the gateway's
// trace, and by service for the worker's traces (one of them unrelated).
const (
	jaegerGatewayTrace = `{"data":[{"traceID":"5b8efff798038103d269b633813fc60c","processes":{"p1":{"serviceName":"gateway"}},"spans":[
		{"traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b174","operationName":"POST /v1/process","references":[],
		 "startTime":1795373740160075,"duration":1000,"tags":[{"key":"span.kind","type":"string","value":"server"}],"processID":"p1"},
		{"traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b175","operationName":"send jobs",
		 "references":[{"refType":"CHILD_OF","traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b174"}],
		 "startTime":1795373740160100,"duration":100,"tags":[{"key":"span.kind","type":"string","value":"producer"}],"processID":"p1"}]}]}`
	jaegerWorkerTraces = `{"data":[
		{"traceID":"af7651916cd43dd8448eb211c80319c","processes":{"p1":{"serviceName":"worker"}},"spans":[
		{"traceID":"af7651916cd43dd8448eb211c80319c","spanID":"f067aa0ba902b7","operationName":"process jobs",
		 "references":[{"refType":"FOLLOWS_FROM","traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b175"}],
		 "startTime":1795373740160300,"duration":500,"tags":[{"key":"span.kind","type":"string","value":"consumer"}],"processID":"p1"},
		{"traceID":"af7651916cd43dd8448eb211c80319c","spanID":"f067aa0ba902b8","operationName":"UPDATE jobs",
		 "references":[{"refType":"CHILD_OF","traceID":"af7651916cd43dd8448eb211c80319c","spanID":"f067aa0ba902b7"}],
		 "startTime":1795373740160400,"duration":50,"tags":[{"key":"span.kind","type":"string","value":"client"}],"processID":"p1"}]},
		{"traceID":"1af7651916cd43dd8448eb211c80319c","processes":{"p1":{"serviceName":"worker"}},"spans":[
		{"traceID":"1af7651916cd43dd8448eb211c80319c","spanID":"10f067aa0ba902b7","operationName":"process jobs","references":[],
		 "startTime":1795373740160300,"duration":500,"tags":[{"key":"span.kind","type":"string","value":"consumer"}],"processID":"p1"}]}]}`
)

func TestAwaitFollowsLinksInJaeger(t *testing.T) {
	var searched []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/traces/5b8efff798038103d269b633813fc60c":
			_, _ = w.Write([]byte(jaegerGatewayTrace))
		case r.URL.Path == "/api/traces" && r.URL.Query().Get("service") == "worker":
			mu.Lock()
			searched = append(searched, r.URL.RawQuery)
			mu.Unlock()
			_, _ = w.Write([]byte(jaegerWorkerTraces))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	spans, err := Await(context.Background(), NewJaegerSource(srv.URL), "5b8efff798038103d269b633813fc60c", MustParse(linkChain), fastPoll)
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if len(spans) != 4 {
		t.Errorf("Await: %d spans, want 4", len(spans))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(searched) == 0 {
		t.Fatal("Jaeger was not searched for the worker's traces")
	}
}
