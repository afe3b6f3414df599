package provider_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestEnvBeatsOptionForServiceNameAndEndpoint(t *testing.T) {
	fromEnv := newServer(t)
	fromCode := newServer(t)
	t.Setenv("OTEL_SERVICE_NAME", "checkout-env")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", fromEnv.URL())
	p := start(t, provider.WithServiceName("checkout-code"), provider.WithEndpoint(fromCode.URL()), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("precedence-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	shutdown(t, p)
	assertTrace(t, fromEnv, "checkout-env", parent, child)
	if _, err := fromEnv.WaitMetrics(waitCtx(t), "orders.placed"); err != nil {
		t.Errorf("metrics did not follow the env endpoint: %v", err)
	}
	if n := len(fromCode.Requests()); n != 0 {
		t.Errorf("the option's endpoint got %d requests although OTEL_EXPORTER_OTLP_ENDPOINT is set", n)
	}
}

func TestSignalEndpointEnvBeatsOptionForThatSignalOnly(t *testing.T) {
	traces := newServer(t)
	rest := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.URL()+"/v1/traces")
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(rest.URL()), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("precedence-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	shutdown(t, p)
	assertTrace(t, traces, "checkout", parent, child)
	if _, err := rest.WaitMetrics(waitCtx(t), "orders.placed"); err != nil {
		t.Errorf("metrics did not use the option's endpoint: %v", err)
	}
	if n := len(rest.Spans()); n != 0 {
		t.Errorf("%d spans went to the option's endpoint", n)
	}
}

func TestResourceAttributesEnvBeatsOptions(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=production,service.version=9.9.9,team=payments")
	mem := tracetest.NewInMemoryExporter()
	p := start(t, provider.WithServiceName("checkout"), provider.WithServiceVersion("1.0.0"), provider.WithEnvironment("dev"),
		provider.WithResourceAttributes(attribute.String("team", "code"), attribute.String("region", "eu")),
		provider.WithoutGlobals(), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"), provider.WithSpanExporter(mem))
	emitTrace(p)
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := mem.GetSpans()
	if len(spans) == 0 {
		t.Fatal("no spans")
	}
	set := spans[0].Resource.Set()
	for k, want := range map[string]string{
		"service.name":                "checkout",
		"service.version":             "9.9.9",
		"deployment.environment.name": "production",
		"team":                        "payments",
		"region":                      "eu",
	} {
		if v, _ := set.Value(attribute.Key(k)); v.AsString() != want {
			t.Errorf("%s = %q, want %q", k, v.AsString(), want)
		}
	}
	if got := p.Resource().SchemaURL(); !strings.HasPrefix(got, "https://opentelemetry.io/schemas/") {
		t.Errorf("schema URL %q", got)
	}
}

func TestUnknownServiceFallback(t *testing.T) {
	p := start(t, provider.WithoutGlobals(), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"))
	v, _ := p.Resource().Set().Value("service.name")
	if !strings.HasPrefix(v.AsString(), "unknown_service:") {
		t.Errorf("service.name = %q, want unknown_service:<exe>", v.AsString())
	}
}

func TestExporterEnvBeatsOption(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	var console strings.Builder
	p := start(t, provider.WithConsoleExporter(&console), provider.WithoutGlobals())
	emitTrace(p)
	shutdown(t, p)
	if _, err := srv.WaitSpans(waitCtx(t), 2); err != nil {
		t.Fatalf("OTEL_TRACES_EXPORTER=otlp ignored: %v", err)
	}
	if console.Len() != 0 {
		t.Errorf("console exporter wrote %d bytes although OTEL_TRACES_EXPORTER=otlp", console.Len())
	}
}

func TestInsecureEnvOverridesHTTPSScheme(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://"+strings.TrimPrefix(srv.URL(), "http://"))
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2000")
	p := start(t, provider.WithServiceName("checkout"), provider.WithoutGlobals(), provider.WithMetricsExporter("none"))
	parent, child := emitTrace(p)
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
}

func TestSignalEndpointOptionsAreUsedAsGiven(t *testing.T) {
	traces := newServer(t)
	rest := newServer(t)
	p := start(t, provider.WithServiceName("checkout"), provider.WithTracesEndpoint(traces.URL()+"/v1/traces"),
		provider.WithEndpoint(rest.URL()), provider.WithLogs(), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("precedence-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	slog.New(p.LogHandler()).Info("placed")
	shutdown(t, p)
	// Nothing appended to the traces URL, the signal paths appended to the
	// base URL.
	assertTrace(t, traces, "checkout", parent, child)
	for _, r := range traces.Requests() {
		if r.Path != otlptest.TracesPath {
			t.Errorf("traces collector got a request for %s", r.Path)
		}
	}
	if _, err := rest.WaitMetrics(waitCtx(t), "orders.placed"); err != nil {
		t.Errorf("metrics did not go to WithEndpoint + /v1/metrics: %v", err)
	}
	if _, err := rest.WaitLogs(waitCtx(t), 1); err != nil {
		t.Errorf("logs did not go to WithEndpoint + /v1/logs: %v", err)
	}
	if n := len(rest.Spans()); n != 0 {
		t.Errorf("%d spans went to WithEndpoint beside WithTracesEndpoint", n)
	}
}

func TestEnvEndpointBeatsSignalEndpointOption(t *testing.T) {
	fromEnv := newServer(t)
	fromCode := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", fromEnv.URL())
	p := start(t, provider.WithServiceName("checkout"), provider.WithTracesEndpoint(fromCode.URL()+"/v1/traces"),
		provider.WithMetricsExporter("none"), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	shutdown(t, p)
	assertTrace(t, fromEnv, "checkout", parent, child)
	if n := len(fromCode.Requests()); n != 0 {
		t.Errorf("WithTracesEndpoint got %d requests although OTEL_EXPORTER_OTLP_ENDPOINT is set", n)
	}
}
