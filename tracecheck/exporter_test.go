package tracecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// lockedBuffer is a bytes.Buffer safe for the exporter's and the test's
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func treeProvider(t *testing.T, service string, exp sdktrace.SpanExporter) trace.Tracer {
	t.Helper()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("tracecheck-test")
}

func TestTreeExporterPrintsEachLocalTree(t *testing.T) {
	var out lockedBuffer
	exp := NewTreeExporter(&out)
	gateway := treeProvider(t, "gateway", exp)
	worker := treeProvider(t, "worker", exp)
	ctx := context.Background()

	ctx, server := gateway.Start(ctx, "POST /v1/process", trace.WithSpanKind(trace.SpanKindServer))
	sendCtx, send := gateway.Start(ctx, "send jobs", trace.WithSpanKind(trace.SpanKindProducer))
	props := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(sendCtx, props)
	send.End()
	if out.String() != "" {
		t.Fatalf("printed before the root ended:\n%s", out.String())
	}
	server.End()
	gatewayTree := out.String()
	for _, want := range []string{"trace " + server.SpanContext().TraceID().String() + "  2 spans, 1 service", "POST /v1/process  gateway", "`- send jobs      gateway  producer"} {
		if !strings.Contains(gatewayTree, want) {
			t.Errorf("gateway tree lacks %q:\n%s", want, gatewayTree)
		}
	}

	// The worker's part continues the trace from the message.
	remote := propagation.TraceContext{}.Extract(context.Background(), props)
	pctx, process := worker.Start(remote, "process jobs", trace.WithSpanKind(trace.SpanKindConsumer))
	_, db := worker.Start(pctx, "UPDATE jobs", trace.WithSpanKind(trace.SpanKindClient))
	db.End()
	process.End()
	workerTree := strings.TrimPrefix(out.String(), gatewayTree)
	for _, want := range []string{"2 spans, 1 service", "process jobs", "parent " + send.SpanContext().SpanID().String() + " in another process", "`- UPDATE jobs"} {
		if !strings.Contains(workerTree, want) {
			t.Errorf("worker tree lacks %q:\n%s", want, workerTree)
		}
	}
	if strings.Contains(workerTree, "(orphan)") {
		t.Errorf("a span continuing a remote parent is not an orphan:\n%s", workerTree)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != gatewayTree+workerTree {
		t.Errorf("Shutdown printed more although nothing was pending:\n%s", strings.TrimPrefix(got, gatewayTree+workerTree))
	}
}

func TestTreeExporterBounds(t *testing.T) {
	var out lockedBuffer
	exp := NewTreeExporter(&out, WithMaxPendingSpans(3), WithMaxPendingAge(time.Minute), nil)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exp.cfg.now = func() time.Time { return now }
	tr := treeProvider(t, "svc", exp)

	// Two traces whose roots never end.
	_, rootA := tr.Start(context.Background(), "a root")
	_, rootB := tr.Start(context.Background(), "b root")
	ctxA := trace.ContextWithSpan(context.Background(), rootA)
	ctxB := trace.ContextWithSpan(context.Background(), rootB)
	for i := range 2 {
		_, s := tr.Start(ctxA, fmt.Sprintf("a child %d", i))
		s.End()
	}
	now = now.Add(time.Second)
	_, s := tr.Start(ctxB, "b child 0")
	s.End()
	if out.String() != "" {
		t.Fatalf("printed within the bounds:\n%s", out.String())
	}
	// A fourth span goes past the bound: trace a, waiting longest, goes.
	_, s = tr.Start(ctxB, "b child 1")
	s.End()
	got := out.String()
	if !strings.Contains(got, "(incomplete: spans without their local root)") || !strings.Contains(got, "a child 1") || strings.Contains(got, "b child") {
		t.Fatalf("after the span bound:\n%s", got)
	}
	// Trace b is past the age bound at the next export.
	now = now.Add(time.Minute)
	_, s = tr.Start(context.Background(), "c root")
	s.End()
	got = strings.TrimPrefix(out.String(), got)
	if !strings.Contains(got, "b child 1") || !strings.Contains(got, "c root") {
		t.Fatalf("after the age bound:\n%s", got)
	}
	if len(exp.pending) != 0 || exp.count != 0 {
		t.Errorf("still pending: %d traces, %d spans", len(exp.pending), exp.count)
	}
	rootA.End()
	rootB.End()
}

func TestTreeExporterShutdownPrintsPending(t *testing.T) {
	var out lockedBuffer
	exp := NewTreeExporter(&out)
	tr := treeProvider(t, "svc", exp)
	ctx, root := tr.Start(context.Background(), "root")
	_, child := tr.Start(ctx, "child")
	child.End()
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "(incomplete at shutdown: spans without their local root)") || !strings.Contains(got, "(orphan) child") {
		t.Errorf("Shutdown printed:\n%s", got)
	}
	before := out.String()
	root.End()
	if out.String() != before {
		t.Error("printed after Shutdown")
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestTreeExporterConcurrentTraces(t *testing.T) {
	var out lockedBuffer
	exp := NewTreeExporter(&out)
	tr := treeProvider(t, "svc", exp)
	const traces = 20
	var wg sync.WaitGroup
	for i := range traces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, root := tr.Start(context.Background(), fmt.Sprintf("root %02d", i))
			for j := range 3 {
				_, c := tr.Start(ctx, fmt.Sprintf("child %02d.%d", i, j))
				c.End()
			}
			root.End()
		}()
	}
	wg.Wait()
	got := out.String()
	if n := strings.Count(got, "4 spans, 1 service"); n != traces {
		t.Errorf("printed %d whole trees, want %d:\n%s", n, traces, got)
	}
	// Each tree is written at once: a root line is followed by its own children.
	lines := strings.Split(got, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "root ") {
			name := strings.Fields(l)[1]
			for j := 1; j <= 3; j++ {
				if !strings.Contains(lines[i+j], "child "+name+".") {
					t.Fatalf("tree of root %s interleaved:\n%s", name, got)
				}
			}
		}
	}
}

type failingWriterAfter struct{}

func (failingWriterAfter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestTreeExporterReportsWriteErrorAndMisuse(t *testing.T) {
	exp := NewTreeExporter(failingWriterAfter{})
	tr := treeProvider(t, "svc", exp)
	_, s := tr.Start(context.Background(), "root")
	s.End()
	if err := exp.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{s.(sdktrace.ReadOnlySpan)}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("ExportSpans = %v, want the writer's error", err)
	}
	for name, f := range map[string]func(){
		"tracecheck.NewTreeExporter: w is nil":      func() { NewTreeExporter(nil) },
		"tracecheck.WithMaxPendingSpans: n must be": func() { WithMaxPendingSpans(0) },
		"tracecheck.WithMaxPendingAge: age must be": func() { WithMaxPendingAge(-time.Second) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, name) {
					t.Errorf("panic = %q, want it to start with %q", r, name)
				}
			}()
			f()
		}()
	}
}
