package provider_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestConsoleExporter(t *testing.T) {
	var buf bytes.Buffer
	p := start(t, provider.WithServiceName("checkout"), provider.WithConsoleExporter(&buf), provider.WithoutGlobals(), provider.WithLogs())
	ctx, span := p.TracerProvider().Tracer("console-test").Start(context.Background(), "charge card")
	slog.New(p.LogHandler()).InfoContext(ctx, "charged")
	span.End()
	ctr, _ := p.MeterProvider().Meter("console-test").Int64Counter("cards.charged")
	ctr.Add(ctx, 1)
	shutdown(t, p)
	out := buf.String()
	for _, want := range []string{`"Name": "charge card"`, `"Value": "checkout"`, `"Name": "cards.charged"`, `"Value": "charged"`} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %s", want)
		}
	}
}

// The tree exporter prints a trace as a compact tree, not the console's
// JSON, and "tree" in OTEL_TRACES_EXPORTER writes to the same writer.
func TestTreeExporter(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
	}{{"option", ""}, {"env", "tree"}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("OTEL_TRACES_EXPORTER", tc.env)
			}
			var buf bytes.Buffer
			p := start(t, provider.WithServiceName("checkout"), provider.WithTreeExporter(&buf), provider.WithMetricsExporter("none"), provider.WithoutGlobals())
			ctx, root := p.TracerProvider().Tracer("tree-test").Start(context.Background(), "POST /orders")
			_, child := p.TracerProvider().Tracer("tree-test").Start(ctx, "charge card")
			child.End()
			root.End()
			shutdown(t, p)
			out := buf.String()
			if strings.Contains(out, `"Name"`) {
				t.Fatalf("tree output is the console's JSON:\n%s", out)
			}
			for _, want := range []string{"POST /orders", "`- charge card", "checkout", root.SpanContext().TraceID().String()} {
				if !strings.Contains(out, want) {
					t.Errorf("tree output lacks %q:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "\n"); n > 10 {
				t.Errorf("%d lines for two spans:\n%s", n, out)
			}
		})
	}
}

func TestConsoleFromEnvUsesConfiguredWriter(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	var buf bytes.Buffer
	p := start(t, provider.WithConsoleExporter(&buf), provider.WithoutGlobals())
	_, span := p.TracerProvider().Tracer("console-test").Start(context.Background(), "from env")
	span.End()
	shutdown(t, p)
	if !strings.Contains(buf.String(), `"Name": "from env"`) {
		t.Errorf("console output %q lacks the span", buf.String())
	}
}

func TestSpanExporterReplacesOTLP(t *testing.T) {
	srv := newServer(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
	mem := tracetest.NewInMemoryExporter()
	p := start(t, provider.WithServiceName("checkout"), provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"),
		provider.WithSpanExporter(mem), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := mem.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("in-memory exporter got %d spans, want 2", len(spans))
	}
	if spans[0].SpanContext.SpanID() != child.SpanID() || spans[0].Parent.SpanID() != parent.SpanID() {
		t.Errorf("first ended span %v (parent %v), want the child", spans[0].SpanContext.SpanID(), spans[0].Parent.SpanID())
	}
	shutdown(t, p)
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d OTLP requests with WithTracesExporter(\"none\")", n)
	}
}

func TestSpanExporterBesideOTLP(t *testing.T) {
	srv := newServer(t)
	mem := tracetest.NewInMemoryExporter()
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.URL()), provider.WithMetricsExporter("none"),
		provider.WithSpanExporter(mem), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(mem.GetSpans()); n != 2 {
		t.Errorf("in-memory exporter got %d spans, want 2", n)
	}
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
}

func TestMetricReader(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	p := start(t, provider.WithServiceName("checkout"), provider.WithMetricsExporter("none"), provider.WithTracesExporter("none"),
		provider.WithMetricReader(reader), provider.WithoutGlobals())
	ctr, err := p.MeterProvider().Meter("reader-test").Int64Counter("orders.placed")
	if err != nil {
		t.Fatal(err)
	}
	ctr.Add(context.Background(), 2)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if v, _ := rm.Resource.Set().Value("service.name"); v.AsString() != "checkout" {
		t.Errorf("service.name = %q", v.AsString())
	}
	if len(rm.ScopeMetrics) != 1 || len(rm.ScopeMetrics[0].Metrics) != 1 {
		t.Fatalf("collected %+v", rm.ScopeMetrics)
	}
	m := rm.ScopeMetrics[0].Metrics[0]
	sum, ok := m.Data.(metricdata.Sum[int64])
	if m.Name != "orders.placed" || !ok || sum.DataPoints[0].Value != 2 {
		t.Errorf("metric %s = %+v", m.Name, m.Data)
	}
}

func TestNoMetricExporterIsNoop(t *testing.T) {
	p := start(t, provider.WithMetricsExporter("none"), provider.WithTracesExporter("none"), provider.WithoutGlobals())
	if _, ok := p.MeterProvider().(*sdkmetric.MeterProvider); ok {
		t.Error("an SDK meter provider was built with nothing to read it")
	}
}

func TestMetricIntervalOption(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithEndpoint(srv.URL()), provider.WithTracesExporter("none"), provider.WithMetricInterval(50*time.Millisecond),
		provider.WithoutGlobals())
	ctr, _ := p.MeterProvider().Meter("interval-test").Int64Counter("ticks")
	ctr.Add(context.Background(), 1)
	// Without Shutdown or ForceFlush, only the periodic export can deliver it.
	if _, err := srv.WaitMetrics(waitCtx(t), "ticks"); err != nil {
		t.Fatalf("periodic export did not happen: %v", err)
	}
}

func TestGRPCProtocolIsBounded(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlptest.UnusedURL(t))
	// gRPC retries an unavailable collector until the export times out;
	// a short timeout lets the retries end before the leak check.
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300")
	p := startTimed(t, provider.WithServiceName("checkout"), provider.WithoutGlobals(), provider.WithLogs())
	emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("grpc-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	// The span batch's failure goes to the error handler; the final metric
	// export's failure comes back from Shutdown.
	err := shutdownTimed(t, p)
	if err == nil || !strings.Contains(err.Error(), "provider: metrics") || !strings.Contains(err.Error(), "Unavailable") {
		t.Fatalf("Shutdown = %v, want the metric export's Unavailable error", err)
	}
}

func TestAllSignalsOverGRPC(t *testing.T) {
	srv := newServer(t, otlptest.WithGRPC())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	p := start(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.GRPCURL()), provider.WithLogs(), provider.WithoutGlobals())
	parent, child := emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("grpc-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	slog.New(p.LogHandler()).Info("order placed")
	shutdown(t, p)
	assertTrace(t, srv, "checkout", parent, child)
	if _, err := srv.WaitMetrics(waitCtx(t), "orders.placed"); err != nil {
		t.Error(err)
	}
	if logs, err := srv.WaitLogs(waitCtx(t), 1); err != nil {
		t.Error(err)
	} else if logs[0].Body != "order placed" {
		t.Errorf("log body %q", logs[0].Body)
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.Path, "/opentelemetry.proto.collector.") {
			t.Errorf("request %s did not come over gRPC", r.Path)
		}
	}
}

// stalledWriter stands for a stdout that stalls: Write announces itself on
// entered and then waits until the test closes release.
type stalledWriter struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func newStalledWriter() *stalledWriter {
	return &stalledWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (w *stalledWriter) Write(b []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

func (w *stalledWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestConsoleExporterDoesNotBlockTheCaller(t *testing.T) {
	// The exports below happen only on ForceFlush.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000")
	t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "3600000")
	w := newStalledWriter()
	p := start(t, provider.WithConsoleExporter(w), provider.WithMetricsExporter("none"), provider.WithLogs(), provider.WithoutGlobals())
	released := false
	release := func() {
		if !released {
			released = true
			close(w.release)
		}
	}
	// start's cleanup shuts p down, which needs the writer.
	t.Cleanup(release)

	returned := make(chan struct{})
	go func() {
		defer close(returned)
		ctx, span := p.TracerProvider().Tracer("console-test").Start(context.Background(), "charge card")
		slog.New(p.LogHandler()).InfoContext(ctx, "charged")
		span.End()
	}()
	select {
	case <-returned:
	case <-w.entered:
		release()
		<-returned
		t.Fatal("span End or the log call waited for the console writer")
	}

	flushed := make(chan error, 1)
	go func() { flushed <- p.ForceFlush(context.Background()) }()
	select {
	case <-w.entered:
	case err := <-flushed:
		t.Fatalf("ForceFlush returned %v without writing", err)
	}
	release()
	if err := <-flushed; err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	for _, want := range []string{`"Name": "charge card"`, `"Value": "charged"`} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("console output lacks %s", want)
		}
	}
}

// gatedExporter holds its first export until the test opens the gate.
type gatedExporter struct {
	*tracetest.InMemoryExporter
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func (e *gatedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.once.Do(func() {
		close(e.entered)
		<-e.gate
	})
	return e.InMemoryExporter.ExportSpans(ctx, spans)
}

func TestFullQueueDropsAndReports(t *testing.T) {
	exportErrors.reset()
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "2")
	exp := &gatedExporter{InMemoryExporter: tracetest.NewInMemoryExporter(), entered: make(chan struct{}), gate: make(chan struct{})}
	p := start(t, provider.WithTracesExporter("none"), provider.WithMetricsExporter("none"), provider.WithSpanExporter(exp), provider.WithoutGlobals())
	tr := p.TracerProvider().Tracer("queue-test")
	emit := func(n int) {
		for range n {
			_, span := tr.Start(context.Background(), "op")
			span.End()
		}
	}
	// Two spans fill a batch (capped at the queue size); its export blocks.
	emit(2)
	<-exp.entered
	// Two fit in the queue again, the third does not.
	emit(3)
	close(exp.gate)
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 4 {
		t.Errorf("exported %d spans, want 4", n)
	}
	var reported bool
	for _, err := range exportErrors.all() {
		reported = reported || strings.Contains(err.Error(), "WithSpanExporter: queue full (2), 1 span dropped")
	}
	if !reported {
		t.Errorf("the dropped span was not reported: %v", exportErrors.all())
	}
}
