package tracecheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testdata/jaeger_trace.json is the /api/traces/{id} answer of Jaeger v2.13.0
// for the trace TestJaegerRoundTrip sends (refresh it by running that test
// with ASYNCTRACE_JAEGER_FIXTURE set to the file's path).
const (
	fixtureTrace    = "4415fc14dd0b869f8c796857002a23a8"
	fixtureFrontend = "tracetree-frontend-67f45877"
	fixtureBilling  = "tracetree-billing-67f45877"
)

func readFixture(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile("testdata/jaeger_trace.json")
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func fixtureSpans(t *testing.T) map[string]Span {
	t.Helper()
	spans, err := decodeJaeger(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 5 {
		t.Fatalf("decoded %d spans, want 5", len(spans))
	}
	byName := make(map[string]Span)
	for _, s := range spans {
		byName[s.Name] = s
	}
	return byName
}

func TestDecodeJaegerFixture(t *testing.T) {
	spans := fixtureSpans(t)
	root, send, process, db, compute := spans["POST /orders"], spans["send orders"], spans["process orders"], spans["UPDATE accounts"], spans["compute"]

	for name, s := range spans {
		if s.TraceID != fixtureTrace {
			t.Errorf("%s: trace id %s", name, s.TraceID)
		}
	}
	if root.SpanID != "eb703be9238a773a" || root.ParentSpanID != "" || root.Service != fixtureFrontend || root.Kind != KindServer {
		t.Errorf("root = %+v", root)
	}
	if want := time.UnixMicro(1795373740160075).UTC(); !root.Start.Equal(want) || root.Duration != 1264*time.Microsecond {
		t.Errorf("root start %v duration %v, want %v and 1.264ms", root.Start, root.Duration, want)
	}
	wantAttrs := map[string]string{"http.request.method": "POST", "http.response.status_code": "202"}
	if !equalMaps(root.Attributes, wantAttrs) {
		t.Errorf("root attributes = %v, want %v (Jaeger's own tags removed)", root.Attributes, wantAttrs)
	}
	wantAttrs = map[string]string{"messaging.system": "pulsar", "ratio": "0.25", "retry": "false", "tags": `["a","b"]`}
	if send.ParentSpanID != root.SpanID || send.Kind != KindProducer || !equalMaps(send.Attributes, wantAttrs) {
		t.Errorf("send = %+v, want attributes %v", send, wantAttrs)
	}
	// The consumer is both child of and linked to the producer; Jaeger keeps a
	// single FOLLOWS_FROM reference for the two.
	if process.ParentSpanID != send.SpanID || process.Service != fixtureBilling || process.Kind != KindConsumer {
		t.Errorf("process = %+v", process)
	}
	if len(process.Links) != 1 || process.Links[0] != (Link{TraceID: fixtureTrace, SpanID: send.SpanID}) {
		t.Errorf("process links = %+v", process.Links)
	}
	if process.StatusError || process.Attributes != nil {
		t.Errorf("process: status OK and no attributes expected, got %+v", process)
	}
	if !db.StatusError || db.StatusMessage != "deadlock detected" || db.Kind != KindClient || db.ParentSpanID != process.SpanID || db.Attributes != nil {
		t.Errorf("db = %+v", db)
	}
	if compute.Kind != KindInternal || compute.ParentSpanID != process.SpanID ||
		len(compute.Links) != 1 || compute.Links[0] != (Link{TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "00f067aa0ba902b7"}) {
		t.Errorf("compute = %+v", compute)
	}

	all := make([]Span, 0, len(spans))
	for _, s := range spans {
		all = append(all, s)
	}
	golden(t, "render_jaeger.txt", renderString(all))
	rootRef := SpanRef{Service: fixtureFrontend, Name: "POST /orders"}
	sendRef := SpanRef{Service: fixtureFrontend, Name: "send orders"}
	processRef := SpanRef{Service: fixtureBilling, Name: "process orders"}
	if err := Check(all, Expectation{Spans: []ExpectedSpan{
		{Service: fixtureFrontend, Name: "POST /orders", Kind: KindServer},
		{Service: fixtureFrontend, Name: "send orders", Kind: KindProducer, Parent: rootRef, Attributes: map[string]string{"messaging.system": "pulsar"}},
		{Service: fixtureBilling, Name: "process orders", Kind: KindConsumer, Parent: sendRef, Links: []SpanRef{sendRef}},
		{Service: fixtureBilling, Name: "UPDATE accounts", Kind: KindClient, Parent: processRef, Error: true},
		{Service: fixtureBilling, Name: "compute", Kind: KindInternal, Parent: processRef},
	}}); err != nil {
		t.Error(err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if w, ok := a[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestJaegerParentAndLinks(t *testing.T) {
	const tr = "000000000000000000000000000000aa"
	cases := []struct {
		name       string
		refs       []jaegerReference
		wantParent string
		wantLinks  []Link
	}{
		{"none", nil, "", nil},
		{"child of", []jaegerReference{{"CHILD_OF", tr, "01"}}, "0000000000000001", nil},
		// Leading zeros dropped by older Jaeger versions are restored.
		{"short ids", []jaegerReference{{"CHILD_OF", "aa", "1"}}, "0000000000000001", nil},
		{"parent is also linked", []jaegerReference{{"FOLLOWS_FROM", tr, "01"}}, "0000000000000001", []Link{{tr, "0000000000000001"}}},
		{"child of wins over follows from", []jaegerReference{{"FOLLOWS_FROM", tr, "02"}, {"CHILD_OF", tr, "01"}}, "0000000000000001", []Link{{tr, "0000000000000002"}}},
		{"link to another trace only", []jaegerReference{{"FOLLOWS_FROM", "bb", "03"}}, "", []Link{{"000000000000000000000000000000bb", "0000000000000003"}}},
		{"child of another trace is a link", []jaegerReference{{"CHILD_OF", "bb", "03"}}, "", []Link{{"000000000000000000000000000000bb", "0000000000000003"}}},
	}
	for _, c := range cases {
		parent, links := jaegerParentAndLinks(tr, c.refs)
		if parent != c.wantParent || len(links) != len(c.wantLinks) {
			t.Errorf("%s: parent %q links %v, want %q %v", c.name, parent, links, c.wantParent, c.wantLinks)
			continue
		}
		for i := range links {
			if links[i] != c.wantLinks[i] {
				t.Errorf("%s: link %d = %v, want %v", c.name, i, links[i], c.wantLinks[i])
			}
		}
	}
}

func TestDecodeJaegerRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		"not json":       `<html>`,
		"truncated":      `{"data":[{"traceID":"aa","spans":[`,
		"error envelope": `{"data":null,"errors":[{"code":500,"msg":"storage down"}]}`,
		"bad tag value":  `{"data":[{"traceID":"aa","spans":[{"traceID":"aa","spanID":"01","tags":[{"key":"k","type":"string","value":"x}]}],"processes":{}}]}`,
		"wrong type":     `{"data":"nope"}`,
	}
	for name, body := range cases {
		if spans, err := decodeJaeger([]byte(body)); err == nil {
			t.Errorf("%s: decoded %v without error", name, spans)
		}
	}
	spans, err := decodeJaeger([]byte(`{"data":[],"errors":null}`))
	if err != nil || len(spans) != 0 {
		t.Errorf("empty answer: %v, %v", spans, err)
	}
	// Unknown processes, odd tag types and missing fields are tolerated.
	spans, err = decodeJaeger([]byte(`{"data":[{"traceID":"aa","spans":[{"traceID":"aa","spanID":"01","operationName":"op","processID":"p9",` +
		`"startTime":1,"duration":-5,"tags":[{"key":"n","type":"int64","value":12345678901234567890},{"key":"b","type":"binary","value":"AAE="},` +
		`{"key":"nothing","type":"string","value":null},{"key":"obj","type":"string","value":{"x":1}}]}]}]}`))
	if err != nil || len(spans) != 1 {
		t.Fatalf("lenient decode: %v, %v", spans, err)
	}
	s := spans[0]
	if s.Service != "" || s.Duration != 0 || s.Kind != "unspecified" || s.Attributes["n"] != "12345678901234567890" ||
		s.Attributes["b"] != "AAE=" || s.Attributes["nothing"] != "" || s.Attributes["obj"] != `{"x":1}` {
		t.Errorf("lenient decode = %+v", s)
	}
}

// fakeJaeger serves canned answers and remembers the last request.
func fakeJaeger(t *testing.T, status int, body string) (*httptest.Server, *http.Request) {
	t.Helper()
	var last http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = *r.Clone(context.Background())
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &last
}

func TestFetchTrace(t *testing.T) {
	srv, last := fakeJaeger(t, http.StatusOK, string(readFixture(t)))
	spans, err := FetchTrace(context.Background(), srv.URL+"/", " 4415FC14DD0B869F8C796857002A23A8 ")
	if err != nil || len(spans) != 5 {
		t.Fatalf("FetchTrace = %d spans, %v", len(spans), err)
	}
	if last.URL.Path != "/api/traces/"+fixtureTrace {
		t.Errorf("requested %s", last.URL.Path)
	}
}

func TestFetchTraceErrors(t *testing.T) {
	ctx := context.Background()
	notFound, _ := fakeJaeger(t, http.StatusNotFound, `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`)
	if _, err := FetchTrace(ctx, notFound.URL, fixtureTrace); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("404: %v, want ErrTraceNotFound", err)
	}
	empty, _ := fakeJaeger(t, http.StatusOK, `{"data":[]}`)
	if _, err := FetchTrace(ctx, empty.URL, fixtureTrace); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("empty answer: %v, want ErrTraceNotFound", err)
	}
	broken, _ := fakeJaeger(t, http.StatusInternalServerError, "storage exploded")
	if _, err := FetchTrace(ctx, broken.URL, fixtureTrace); err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "storage exploded") {
		t.Errorf("500: %v", err)
	}
	for _, id := range []string{"", "xyz", strings.Repeat("a", 33), "../api/services"} {
		if _, err := FetchTrace(ctx, broken.URL, id); err == nil || !strings.Contains(err.Error(), "invalid trace id") {
			t.Errorf("id %q: %v", id, err)
		}
	}
	for _, base := range []string{"127.0.0.1:16686", "ftp://x", "http://[::1"} {
		if _, err := FetchTrace(ctx, base, fixtureTrace); err == nil || !strings.Contains(err.Error(), "invalid Jaeger URL") {
			t.Errorf("base %q: %v", base, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := FetchTrace(cancelled, broken.URL, fixtureTrace); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// Nothing listens on port 1 of loopback.
	if _, err := FetchTrace(ctx, "http://127.0.0.1:1", fixtureTrace); err == nil {
		t.Error("no error for an unreachable Jaeger")
	}
}

func TestFindTraces(t *testing.T) {
	srv, last := fakeJaeger(t, http.StatusOK, string(readFixture(t)))
	before := time.Now()
	spans, err := FindTraces(context.Background(), srv.URL, fixtureBilling, time.Hour)
	if err != nil || len(spans) != 5 {
		t.Fatalf("FindTraces = %d spans, %v", len(spans), err)
	}
	q := last.URL.Query()
	if last.URL.Path != "/api/traces" || q.Get("service") != fixtureBilling || q.Get("limit") != "1000" {
		t.Errorf("request %s", last.URL)
	}
	start, err1 := strconv.ParseInt(q.Get("start"), 10, 64)
	end, err2 := strconv.ParseInt(q.Get("end"), 10, 64)
	if err1 != nil || err2 != nil || end-start != time.Hour.Microseconds() || end < before.UnixMicro() {
		t.Errorf("time window start=%s end=%s", q.Get("start"), q.Get("end"))
	}

	if _, err := FindTraces(context.Background(), srv.URL, "", time.Hour); err == nil {
		t.Error("no error for an empty service")
	}
	if _, err := FindTraces(context.Background(), srv.URL, "svc", 0); err == nil {
		t.Error("no error for a zero lookback")
	}
}

func TestQueryRejectsHugeResponse(t *testing.T) {
	defer func(n int) { maxResponseBytes = n }(maxResponseBytes)
	maxResponseBytes = 4 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(" ", 1<<20))
		for range maxResponseBytes/len(chunk) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	if _, err := FetchTrace(context.Background(), srv.URL, fixtureTrace); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("huge response: %v", err)
	}
}
