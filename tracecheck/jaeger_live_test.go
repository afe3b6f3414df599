package tracecheck

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// liveJaeger returns the query API and OTLP/HTTP base URLs of a running
// Jaeger (scripts/jaeger.sh start), or skips the test when none answers.
// ASYNCTRACE_REQUIRE_JAEGER=1 turns the skip into a failure.
func liveJaeger(t *testing.T) (queryURL, otlpURL string) {
	t.Helper()
	queryURL = envOr("JAEGER_QUERY_URL", "http://127.0.0.1:16686")
	otlpURL = envOr("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queryURL+"/api/services", nil)
	if err == nil {
		req.Close = true
		var resp *http.Response
		if resp, err = http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
	}
	if err != nil {
		msg := "no Jaeger query API at " + queryURL + " (start one with scripts/jaeger.sh start): " + err.Error()
		if os.Getenv("ASYNCTRACE_REQUIRE_JAEGER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return queryURL, otlpURL
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return strings.TrimRight(v, "/")
	}
	return def
}

// livePipeline is one service's provider that both records spans in memory
// and exports them to Jaeger over OTLP/HTTP.
func livePipeline(t *testing.T, otlpURL, service string) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	// The exporter's default transport keeps connections alive after
	// Shutdown; a transport of our own can be closed when the test ends.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(otlpURL+"/v1/traces"),
		otlptracehttp.WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service), attribute.String("service.version", "1.2.3"))),
	)
	return tp, rec
}

// TestJaegerRoundTrip sends a trace that spans two services to a real Jaeger
// and checks that what the query API returns converts to exactly the spans
// the SDK recorded.
func TestJaegerRoundTrip(t *testing.T) {
	queryURL, otlpURL := liveJaeger(t)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	frontendName := "tracecheck-frontend-" + hex.EncodeToString(suffix)
	billingName := "tracecheck-billing-" + hex.EncodeToString(suffix)

	ctx := context.Background()
	frontend, recF := livePipeline(t, otlpURL, frontendName)
	billing, recB := livePipeline(t, otlpURL, billingName)

	rootCtx, root := frontend.Tracer("tracecheck").Start(ctx, "POST /orders", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 202)))
	sendCtx, send := frontend.Tracer("tracecheck").Start(rootCtx, "send orders", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "pulsar"), attribute.Bool("retry", false),
			attribute.Float64("ratio", 0.25), attribute.StringSlice("tags", []string{"a", "b"})))
	time.Sleep(time.Millisecond)
	send.End()
	processCtx, process := billing.Tracer("tracecheck").Start(sendCtx, "process orders", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(trace.Link{SpanContext: send.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "batch")}}))
	_, db := billing.Tracer("tracecheck").Start(processCtx, "UPDATE accounts", trace.WithSpanKind(trace.SpanKindClient))
	db.SetStatus(codes.Error, "deadlock detected")
	db.End()
	foreign := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	})
	_, internal := billing.Tracer("tracecheck").Start(processCtx, "compute", trace.WithLinks(trace.Link{SpanContext: foreign}))
	internal.AddEvent("cache miss", trace.WithAttributes(attribute.String("key", "k1")))
	internal.End()
	process.SetStatus(codes.Ok, "")
	process.End()
	root.End()

	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := frontend.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	if err := billing.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	want := FromSDK(append(recF.Ended(), recB.Ended()...))
	traceID := root.SpanContext().TraceID().String()
	t.Logf("trace id %s", traceID)

	// Jaeger batches incoming spans before storing them: poll, bounded.
	var got []Span
	deadline := time.Now().Add(15 * time.Second)
	for {
		var err error
		got, err = FetchTrace(ctx, queryURL, traceID)
		if err != nil && !errors.Is(err, ErrTraceNotFound) {
			t.Fatal(err)
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("as stored in Jaeger:\n%s", renderString(got))
	if path := os.Getenv("ASYNCTRACE_JAEGER_FIXTURE"); path != "" {
		saveRawTrace(t, queryURL, traceID, path)
	}
	if len(got) != len(want) {
		t.Fatalf("Jaeger returned %d spans, want %d", len(got), len(want))
	}
	gotByID := make(map[string]Span, len(got))
	for _, s := range got {
		gotByID[s.SpanID] = s
	}
	for _, w := range want {
		g, ok := gotByID[w.SpanID]
		if !ok {
			t.Errorf("span %s %q missing from Jaeger", w.SpanID, w.Name)
			continue
		}
		compareSpans(t, g, w)
	}

	found, err := FindTraces(ctx, queryURL, billingName, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ids := TraceIDs(found); len(ids) != 1 || ids[0] != traceID || len(found) != len(want) {
		t.Errorf("FindTraces(%s) = %d spans in traces %v, want %d spans in %s", billingName, len(found), ids, len(want), traceID)
	}

	rootRef := SpanRef{Service: frontendName, Name: "POST /orders"}
	sendRef := SpanRef{Service: frontendName, Name: "send orders"}
	processRef := SpanRef{Service: billingName, Name: "process orders"}
	if err := Check(got, Expectation{Spans: []ExpectedSpan{
		{Service: frontendName, Name: "POST /orders", Kind: KindServer},
		{Service: frontendName, Name: "send orders", Kind: KindProducer, Parent: rootRef,
			Attributes: map[string]string{"messaging.system": "pulsar"}},
		{Service: billingName, Name: "process orders", Kind: KindConsumer, Parent: sendRef, Links: []SpanRef{sendRef}},
		{Service: billingName, Name: "UPDATE accounts", Kind: KindClient, Parent: processRef, Error: true},
		{Service: billingName, Name: "compute", Kind: KindInternal, Parent: processRef},
	}}); err != nil {
		t.Error(err)
	}

	if _, err := FetchTrace(ctx, queryURL, "0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrTraceNotFound) {
		t.Errorf("FetchTrace of an unknown id = %v, want ErrTraceNotFound", err)
	}
}

func compareSpans(t *testing.T, got, want Span) {
	t.Helper()
	label := want.Service + " " + want.Name
	if got.TraceID != want.TraceID || got.ParentSpanID != want.ParentSpanID {
		t.Errorf("%s: ids trace=%s parent=%s, want trace=%s parent=%s", label, got.TraceID, got.ParentSpanID, want.TraceID, want.ParentSpanID)
	}
	if got.Service != want.Service || got.Name != want.Name || got.Kind != want.Kind {
		t.Errorf("%s: got service=%q name=%q kind=%q, want kind %q", label, got.Service, got.Name, got.Kind, want.Kind)
	}
	if got.StatusError != want.StatusError || got.StatusMessage != want.StatusMessage {
		t.Errorf("%s: status error=%v %q, want error=%v %q", label, got.StatusError, got.StatusMessage, want.StatusError, want.StatusMessage)
	}
	// Jaeger keeps microseconds.
	if d := got.Start.Sub(want.Start); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("%s: start %v, want %v", label, got.Start, want.Start)
	}
	if d := got.Duration - want.Duration; d < -2*time.Microsecond || d > 2*time.Microsecond {
		t.Errorf("%s: duration %v, want %v", label, got.Duration, want.Duration)
	}
	if len(got.Attributes) != len(want.Attributes) {
		t.Errorf("%s: attributes %v, want %v", label, got.Attributes, want.Attributes)
	}
	for k, v := range want.Attributes {
		if got.Attributes[k] != v {
			t.Errorf("%s: attribute %s = %q, want %q", label, k, got.Attributes[k], v)
		}
	}
	if len(got.Links) != len(want.Links) {
		t.Errorf("%s: links %v, want %v", label, got.Links, want.Links)
	}
	for i := range min(len(got.Links), len(want.Links)) {
		if got.Links[i] != want.Links[i] {
			t.Errorf("%s: link %d = %v, want %v", label, i, got.Links[i], want.Links[i])
		}
	}
}

// saveRawTrace stores Jaeger's JSON for traceID at path, to refresh the
// fixture the decoding tests read.
func saveRawTrace(t *testing.T, queryURL, traceID, path string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, queryURL+"/api/traces/"+traceID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, buf.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestJaegerLinkedTraceLive sends a request whose consumer starts a trace
// of its own with a link to the producer, and checks it in a real Jaeger
// with Await, which must find the consumer's trace by its service.
func TestJaegerLinkedTraceLive(t *testing.T) {
	queryURL, otlpURL := liveJaeger(t)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	gatewayName := "tracecheck-gateway-" + hex.EncodeToString(suffix)
	workerName := "tracecheck-worker-" + hex.EncodeToString(suffix)
	ctx := context.Background()
	gateway, _ := livePipeline(t, otlpURL, gatewayName)
	worker, _ := livePipeline(t, otlpURL, workerName)

	rootCtx, root := gateway.Tracer("tracecheck").Start(ctx, "POST /v1/process", trace.WithSpanKind(trace.SpanKindServer))
	_, send := gateway.Tracer("tracecheck").Start(rootCtx, "send jobs", trace.WithSpanKind(trace.SpanKindProducer))
	send.End()
	root.End()
	pctx, process := worker.Tracer("tracecheck").Start(ctx, "process jobs", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithNewRoot(), trace.WithLinks(trace.Link{SpanContext: send.SpanContext()}))
	_, db := worker.Tracer("tracecheck").Start(pctx, "UPDATE jobs", trace.WithSpanKind(trace.SpanKindClient))
	db.End()
	process.End()
	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := gateway.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	if err := worker.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}

	want := MustParse(gatewayName + ":POST /v1/process (server) > " + gatewayName + ":send jobs (producer) ~> " +
		workerName + ":process jobs (consumer) > " + workerName + ":UPDATE jobs (client)")
	spans, err := Await(ctx, NewJaegerSource(queryURL), root.SpanContext().TraceID().String(), want, WithTimeout(20*time.Second))
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	var b strings.Builder
	_ = Render(&b, spans)
	t.Logf("linked traces in Jaeger:\n%s", b.String())
}
