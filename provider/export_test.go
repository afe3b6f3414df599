package provider_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// emitTrace creates a SERVER span with a PRODUCER child through p.
func emitTrace(p *provider.Provider) (parent, child trace.SpanContext) {
	tr := p.TracerProvider().Tracer("provider-test")
	ctx, ps := tr.Start(context.Background(), "GET /orders", trace.WithSpanKind(trace.SpanKindServer))
	_, cs := tr.Start(ctx, "send orders", trace.WithSpanKind(trace.SpanKindProducer))
	cs.End()
	ps.End()
	return ps.SpanContext(), cs.SpanContext()
}

func assertTrace(t *testing.T, srv *otlptest.Server, service string, parent, child trace.SpanContext) {
	t.Helper()
	spans, err := srv.WaitSpans(waitCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		if got := s.ServiceName(); got != service {
			t.Errorf("span %q: service.name = %q, want %q", s.Name, got, service)
		}
		byName[s.Name] = s
	}
	ps, cs := byName["GET /orders"], byName["send orders"]
	if ps.SpanID != parent.SpanID() || ps.Kind != trace.SpanKindServer {
		t.Errorf("parent span = %+v", ps)
	}
	if cs.SpanID != child.SpanID() || cs.ParentSpanID != parent.SpanID() || cs.TraceID != parent.TraceID() || cs.Kind != trace.SpanKindProducer {
		t.Errorf("child span = %+v, want child of %v in trace %v", cs, parent.SpanID(), parent.TraceID())
	}
}

func TestSpansReachCollectorViaEnvEndpoint(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
	p := start(t, provider.WithServiceName("checkout"), provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	parent, child := emitTrace(p)
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
	for _, r := range srv.Requests() {
		if r.Path != otlptest.TracesPath || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("unexpected request %s %s", r.Path, r.Header.Get("Content-Type"))
		}
	}
}

func TestSpansReachCollectorViaOption(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(),
		provider.WithMetricsExporter("none"))
	parent, child := emitTrace(p)
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
}

func TestResourceAttributes(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithServiceName("checkout"), provider.WithServiceVersion("1.2.3"), provider.WithEnvironment("staging"),
		provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	emitTrace(p)
	shutdown(t, p)
	spans, err := srv.WaitSpans(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	res := spans[0].Resource
	for key, want := range map[string]string{
		"service.name":                "checkout",
		"service.version":             "1.2.3",
		"deployment.environment.name": "staging",
		"telemetry.sdk.language":      "go",
		"telemetry.sdk.name":          "opentelemetry",
	} {
		if v, ok := res.Value(attribute.Key(key)); !ok || v.AsString() != want {
			t.Errorf("resource %s = %q (present %v), want %q", key, v.AsString(), ok, want)
		}
	}
	for _, key := range []string{"host.name", "process.pid", "process.runtime.name", "service.instance.id"} {
		if _, ok := res.Value(attribute.Key(key)); !ok {
			t.Errorf("resource lacks %s", key)
		}
	}
}

func TestMetricsReachCollector(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(),
		provider.WithTracesExporter("none"))
	ctr, err := p.MeterProvider().Meter("provider-test").Int64Counter("orders.placed")
	if err != nil {
		t.Fatal(err)
	}
	ctr.Add(context.Background(), 4)
	shutdown(t, p)
	ms, err := srv.WaitMetrics(waitCtx(t), "orders.placed")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name != "orders.placed" {
			continue
		}
		if svc, _ := m.Resource.Value("service.name"); svc.AsString() != "checkout" {
			t.Errorf("service.name = %q", svc.AsString())
		}
		if got := m.Proto.GetSum().GetDataPoints()[0].GetAsInt(); got != 4 {
			t.Errorf("orders.placed = %d, want 4", got)
		}
	}
	for _, r := range srv.Requests() {
		if r.Path != otlptest.MetricsPath {
			t.Errorf("unexpected request to %s", r.Path)
		}
	}
}

func TestLogsReachCollector(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
	p := start(t, provider.WithServiceName("checkout"), provider.WithLogs(), provider.WithoutGlobals(),
		provider.WithMetricsExporter("none"), provider.WithTracesExporter("none"))
	ctx, span := p.TracerProvider().Tracer("provider-test").Start(context.Background(), "op")
	slog.New(p.LogHandler()).WarnContext(ctx, "card declined", "order", "o-17")
	span.End()
	shutdown(t, p)
	logs, err := srv.WaitLogs(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	l := logs[0]
	if l.Body != "card declined" || l.SeverityText != "WARN" || l.Scope.Name != provider.ScopeName {
		t.Errorf("record = %+v", l)
	}
	if v, _ := l.Attributes.Value("order"); v.AsString() != "o-17" {
		t.Errorf("order = %q", v.AsString())
	}
	if svc, _ := l.Resource.Value("service.name"); svc.AsString() != "checkout" {
		t.Errorf("service.name = %q", svc.AsString())
	}
	if l.TraceID != span.SpanContext().TraceID() || l.SpanID != span.SpanContext().SpanID() {
		t.Errorf("log not correlated with span: %v/%v", l.TraceID, l.SpanID)
	}
	if got := srv.Requests()[0].Path; got != otlptest.LogsPath {
		t.Errorf("request path %q", got)
	}
}

func TestLogHandlerWithoutLogsDrops(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	h := p.LogHandler()
	if h.Enabled(context.Background(), slog.LevelError) {
		t.Error("handler enabled without WithLogs")
	}
	slog.New(h).Error("dropped")
	shutdown(t, p)
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests without telemetry", n)
	}
}

func TestHeaders(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithEndpoint(srv.URL()), provider.WithHeaders(map[string]string{"X-Api-Key": "from-code"}),
		provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	emitTrace(p)
	shutdown(t, p)
	reqs, err := srv.WaitRequests(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].Header.Get("X-Api-Key"); got != "from-code" {
		t.Errorf("X-Api-Key = %q, want from-code", got)
	}

	srv2 := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "X-Api-Key=from-env")
	p2 := start(t, provider.WithEndpoint(srv2.URL()), provider.WithHeaders(map[string]string{"X-Api-Key": "from-code"}),
		provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	emitTrace(p2)
	shutdown(t, p2)
	reqs, err = srv2.WaitRequests(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].Header.Get("X-Api-Key"); got != "from-env" {
		t.Errorf("X-Api-Key = %q, want from-env", got)
	}
}

func TestTracesOverHTTPJSON(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(),
		provider.WithMetricsExporter("none"))
	parent, child := emitTrace(p)
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
	if got := srv.Requests()[0].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
}
