package tracecheck

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func newRecordingProvider(service string) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
	)
	return tp, rec
}

func TestFromSDK(t *testing.T) {
	ctx := context.Background()
	frontend, recF := newRecordingProvider("frontend")
	billing, recB := newRecordingProvider("billing")
	defer func() { _ = frontend.Shutdown(ctx); _ = billing.Shutdown(ctx) }()

	rootCtx, root := frontend.Tracer("t").Start(ctx, "POST /orders", trace.WithSpanKind(trace.SpanKindServer))
	sendCtx, send := frontend.Tracer("t").Start(rootCtx, "send orders", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "pulsar"), attribute.Int("messaging.batch.message_count", 3),
			attribute.Bool("retry", false), attribute.StringSlice("tags", []string{"a", "b"})))
	send.End()
	_, process := billing.Tracer("t").Start(sendCtx, "process orders", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(trace.Link{SpanContext: send.SpanContext()}))
	process.RecordError(errors.New("boom"))
	process.SetStatus(codes.Error, "card declined")
	process.End()
	_, running := billing.Tracer("t").Start(rootCtx, "still running")
	root.End()

	spans := FromSDK(append(recF.Ended(), append(recB.Ended(), running.(sdktrace.ReadOnlySpan), nil)...))
	if len(spans) != 4 {
		t.Fatalf("want 4 spans (nil skipped), got %d", len(spans))
	}
	byName := make(map[string]Span)
	for _, s := range spans {
		byName[s.Name] = s
		if s.TraceID != root.SpanContext().TraceID().String() {
			t.Errorf("%s: trace id %s", s.Name, s.TraceID)
		}
	}
	r, sd, p, run := byName["POST /orders"], byName["send orders"], byName["process orders"], byName["still running"]
	if r.ParentSpanID != "" || r.Service != "frontend" || r.Kind != KindServer || r.Duration <= 0 {
		t.Errorf("root = %+v", r)
	}
	if sd.ParentSpanID != r.SpanID || sd.Kind != KindProducer || sd.SpanID != send.SpanContext().SpanID().String() {
		t.Errorf("send = %+v", sd)
	}
	wantAttrs := map[string]string{"messaging.system": "pulsar", "messaging.batch.message_count": "3", "retry": "false", "tags": `["a","b"]`}
	if len(sd.Attributes) != len(wantAttrs) {
		t.Errorf("send attributes = %v, want %v", sd.Attributes, wantAttrs)
	}
	for k, v := range wantAttrs {
		if sd.Attributes[k] != v {
			t.Errorf("send attribute %s = %q, want %q", k, sd.Attributes[k], v)
		}
	}
	if p.Service != "billing" || p.ParentSpanID != sd.SpanID || !p.StatusError || p.StatusMessage != "card declined" || p.Kind != KindConsumer {
		t.Errorf("process = %+v", p)
	}
	if len(p.Links) != 1 || p.Links[0] != (Link{TraceID: sd.TraceID, SpanID: sd.SpanID}) {
		t.Errorf("process links = %+v", p.Links)
	}
	if run.Duration != 0 || run.Kind != KindInternal || run.ParentSpanID != r.SpanID {
		t.Errorf("unfinished span = %+v", run)
	}
	running.End()
}

func TestRecorder(t *testing.T) {
	rec := NewRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "svc"))))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, a := tp.Tracer("t").Start(context.Background(), "a")
	_, b := tp.Tracer("t").Start(ctx, "b")
	if len(rec.Spans()) != 0 {
		t.Fatal("recorded a span before it ended")
	}
	b.End()
	a.End()
	_, other := tp.Tracer("t").Start(context.Background(), "other")
	other.End()

	spans := rec.Spans()
	if len(spans) != 3 || spans[0].Name != "b" || spans[1].Name != "a" || spans[0].Service != "svc" {
		t.Fatalf("Spans = %+v", spans)
	}
	spans[0].Name = "changed"
	if rec.Spans()[0].Name != "b" {
		t.Error("Spans returned the recorder's own slice")
	}
	got, err := rec.Trace(context.Background(), strings.ToUpper(a.SpanContext().TraceID().String()))
	if err != nil || len(got) != 2 {
		t.Errorf("Trace = %d spans, %v; want a and b", len(got), err)
	}
	if err := rec.ForceFlush(context.Background()); err != nil {
		t.Error(err)
	}
	rec.Reset()
	if len(rec.Spans()) != 0 {
		t.Error("Reset kept spans")
	}
}
