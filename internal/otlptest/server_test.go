package otlptest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func newServer(t *testing.T, opts ...otlptest.Option) *otlptest.Server {
	t.Helper()
	srv := otlptest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func testResource(t *testing.T) *resource.Resource {
	t.Helper()
	return resource.NewSchemaless(attribute.String("service.name", "otlptest-svc"))
}

func hostOf(t *testing.T, srv *otlptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// exportSpans sends a parent and a child span through a real OTLP/HTTP
// exporter configured by opts and returns their span contexts.
func exportSpans(t *testing.T, opts ...otlptracehttp.Option) (parent, child trace.SpanContext) {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return exportSpansTo(t, exp)
}

// exportSpansTo is exportSpans for any span exporter.
func exportSpansTo(t *testing.T, exp sdktrace.SpanExporter) (parent, child trace.SpanContext) {
	t.Helper()
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(testResource(t)))
	tr := tp.Tracer("otlptest-scope")
	pctx, p := tr.Start(ctx, "parent", trace.WithSpanKind(trace.SpanKindServer))
	_, c := tr.Start(pctx, "child", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("k", "v"), attribute.Int64("n", 7), attribute.StringSlice("list", []string{"a", "b"})))
	c.AddEvent("evt", trace.WithAttributes(attribute.Bool("b", true)))
	c.SetStatus(codes.Error, "boom")
	c.End()
	p.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	return p.SpanContext(), c.SpanContext()
}

func checkSpans(t *testing.T, srv *otlptest.Server, parent, child trace.SpanContext) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spans, err := srv.WaitSpans(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	c, p := byName["child"], byName["parent"]
	if c.ServiceName() != "otlptest-svc" || p.ServiceName() != "otlptest-svc" {
		t.Errorf("service.name = %q/%q", c.ServiceName(), p.ServiceName())
	}
	if c.Scope.Name != "otlptest-scope" {
		t.Errorf("scope = %q", c.Scope.Name)
	}
	if c.Kind != trace.SpanKindProducer || p.Kind != trace.SpanKindServer {
		t.Errorf("kinds = %v/%v", c.Kind, p.Kind)
	}
	if c.TraceID != child.TraceID() || p.TraceID != parent.TraceID() || c.TraceID != p.TraceID {
		t.Errorf("trace ids: child %v parent %v, want %v", c.TraceID, p.TraceID, parent.TraceID())
	}
	if c.SpanID != child.SpanID() || c.ParentSpanID != parent.SpanID() {
		t.Errorf("child span %v parent %v, want %v/%v", c.SpanID, c.ParentSpanID, child.SpanID(), parent.SpanID())
	}
	if p.ParentSpanID.IsValid() {
		t.Errorf("root span has parent %v", p.ParentSpanID)
	}
	if v, _ := c.Attributes.Value("k"); v.AsString() != "v" {
		t.Errorf("attribute k = %v", v.String())
	}
	if v, _ := c.Attributes.Value("n"); v.AsInt64() != 7 {
		t.Errorf("attribute n = %v", v.String())
	}
	if v, _ := c.Attributes.Value("list"); strings.Join(v.AsStringSlice(), ",") != "a,b" {
		t.Errorf("attribute list = %v", v.String())
	}
	if len(c.Events) != 1 || c.Events[0].Name != "evt" {
		t.Errorf("events = %+v", c.Events)
	}
	if c.Status.Code != codes.Error || c.Status.Message != "boom" {
		t.Errorf("status = %+v", c.Status)
	}
	if c.EndTime.Before(c.StartTime) || c.StartTime.IsZero() {
		t.Errorf("times %v..%v", c.StartTime, c.EndTime)
	}
}

func TestSpansProtobuf(t *testing.T) {
	srv := newServer(t)
	parent, child := exportSpans(t, otlptracehttp.WithEndpoint(hostOf(t, srv)), otlptracehttp.WithInsecure())
	checkSpans(t, srv, parent, child)
	// WithSyncer exports each span on its own.
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v, want 2", reqs)
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != otlptest.TracesPath || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("request = %+v", r)
		}
	}
}

func TestSpansGzipAndHeaders(t *testing.T) {
	srv := newServer(t)
	parent, child := exportSpans(t, otlptracehttp.WithEndpoint(hostOf(t, srv)), otlptracehttp.WithInsecure(),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
		otlptracehttp.WithHeaders(map[string]string{"X-Tenant": "t1"}))
	checkSpans(t, srv, parent, child)
	reqs := srv.Requests()
	if got := reqs[0].Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", got)
	}
	if got := reqs[0].Header.Get("X-Tenant"); got != "t1" {
		t.Errorf("X-Tenant = %q", got)
	}
}

func TestSpansJSON(t *testing.T) {
	srv := newServer(t)
	parent, child := exportSpans(t, otlptracehttp.WithEndpoint(hostOf(t, srv)), otlptracehttp.WithInsecure(),
		otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	checkSpans(t, srv, parent, child)
	if got := srv.Requests()[0].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if errs := srv.Errors(); len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
}

func TestMetrics(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(hostOf(t, srv)), otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(testResource(t)),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	m := mp.Meter("otlptest-meter")
	cnt, _ := m.Int64Counter("requests")
	cnt.Add(ctx, 3)
	hist, _ := m.Float64Histogram("latency")
	hist.Record(ctx, 1.5)
	if err := mp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ms, err := srv.WaitMetrics(wctx, "requests", "latency")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, m := range ms {
		types[m.Name] = m.Type
		if svc, _ := m.Resource.Value("service.name"); svc.AsString() != "otlptest-svc" {
			t.Errorf("%s: service.name = %q", m.Name, svc.AsString())
		}
		if m.DataPoints != 1 || m.Scope.Name != "otlptest-meter" {
			t.Errorf("%s: points %d scope %q", m.Name, m.DataPoints, m.Scope.Name)
		}
	}
	if types["requests"] != "sum" || types["latency"] != "histogram" {
		t.Errorf("types = %v", types)
	}
	for _, m := range ms {
		if m.Name == "requests" {
			if got := m.Proto.GetSum().GetDataPoints()[0].GetAsInt(); got != 3 {
				t.Errorf("requests sum = %d, want 3", got)
			}
		}
	}
	if got := srv.MetricNames(); len(got) != 2 {
		t.Errorf("MetricNames = %v", got)
	}
}

func TestLogs(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(hostOf(t, srv)), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(testResource(t)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	tp := sdktrace.NewTracerProvider()
	sctx, span := tp.Tracer("x").Start(ctx, "op")
	var rec otellog.Record
	rec.SetBody(attribute.StringValue("hello"))
	rec.SetSeverity(otellog.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.AddAttributes(attribute.String("user", "u1"))
	lp.Logger("otlptest-logger").Emit(sctx, rec)
	span.End()
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = tp.Shutdown(ctx)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	logs, err := srv.WaitLogs(wctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := logs[0]
	if l.Body != "hello" || l.SeverityNumber != 13 || l.SeverityText != "WARN" || l.Scope.Name != "otlptest-logger" {
		t.Errorf("record = %+v", l)
	}
	if v, _ := l.Attributes.Value("user"); v.AsString() != "u1" {
		t.Errorf("user = %q", v.AsString())
	}
	if l.TraceID != span.SpanContext().TraceID() || l.SpanID != span.SpanContext().SpanID() {
		t.Errorf("correlation %v/%v, want %v/%v", l.TraceID, l.SpanID, span.SpanContext().TraceID(), span.SpanContext().SpanID())
	}
}

func TestHangNeverAnswers(t *testing.T) {
	srv := newServer(t, otlptest.WithMode(otlptest.Hang))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+otlptest.TracesPath, bytes.NewReader(nil))
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("hanging server answered with %s", resp.Status)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("requests = %d, want 1", n)
	}
}

func TestHangReleasedByClose(t *testing.T) {
	srv := otlptest.NewServer(otlptest.WithMode(otlptest.Hang))
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	done := make(chan error, 1)
	go func() {
		resp, err := client.Post(srv.URL()+otlptest.TracesPath, "application/x-protobuf", bytes.NewReader(nil))
		if err == nil {
			resp.Body.Close()
			err = errors.New("answered: " + resp.Status)
		}
		done <- err
	}()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := srv.WaitRequests(wctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	select {
	case err := <-done:
		if err == nil || strings.Contains(err.Error(), "answered") {
			t.Fatalf("client got %v, want a broken connection", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}

func TestRejectAndBadRequests(t *testing.T) {
	srv := newServer(t, otlptest.WithMode(otlptest.Reject))
	post := func(path, ct, ce string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if ce != "" {
			req.Header.Set("Content-Encoding", ce)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(otlptest.TracesPath, "application/x-protobuf", "", nil); got != http.StatusBadRequest {
		t.Errorf("reject mode status = %d", got)
	}
	srv.SetMode(otlptest.Normal)
	if got := post(otlptest.TracesPath, "application/x-protobuf", "", nil); got != http.StatusOK {
		t.Errorf("empty protobuf status = %d, want 200", got)
	}
	if got := post(otlptest.TracesPath, "text/plain", "", []byte("x")); got != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain status = %d", got)
	}
	if got := post(otlptest.TracesPath, "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}); got != http.StatusBadRequest {
		t.Errorf("garbage status = %d", got)
	}
	if got := post(otlptest.MetricsPath, "application/x-protobuf", "gzip", []byte("not gzip")); got != http.StatusBadRequest {
		t.Errorf("bad gzip status = %d", got)
	}
	if got := post(otlptest.LogsPath, "application/json", "", []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}`)); got != http.StatusBadRequest {
		t.Errorf("bad hex id status = %d", got)
	}
	if n := len(srv.Errors()); n != 4 {
		t.Errorf("errors = %d (%v), want 4", n, srv.Errors())
	}
	if n := len(srv.Requests()); n != 6 {
		t.Errorf("requests = %d, want 6", n)
	}
	srv.Reset()
	if len(srv.Requests())+len(srv.Errors()) != 0 {
		t.Error("Reset kept state")
	}
}

func TestWaitSpansTimesOut(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	spans, err := srv.WaitSpans(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || len(spans) != 0 {
		t.Fatalf("spans %d err %v", len(spans), err)
	}
	if !strings.Contains(err.Error(), "got 0 spans, want 1") {
		t.Errorf("error text %q", err)
	}
}

func TestUnusedAddrRefuses(t *testing.T) {
	addr := otlptest.UnusedAddr(t)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+addr+otlptest.TracesPath, "application/x-protobuf", bytes.NewReader(nil))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s answered %s", addr, resp.Status)
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want connection refused", err)
	}
	if u := otlptest.UnusedURL(t); !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("UnusedURL = %q", u)
	}
}
