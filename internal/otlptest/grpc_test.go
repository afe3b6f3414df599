package otlptest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestSpansOverGRPC(t *testing.T) {
	srv := newServer(t, otlptest.WithGRPC())
	if srv.GRPCAddr() == "" || srv.GRPCURL() != "http://"+srv.GRPCAddr() {
		t.Fatalf("GRPCAddr %q GRPCURL %q", srv.GRPCAddr(), srv.GRPCURL())
	}
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(map[string]string{"x-tenant": "t1"}))
	if err != nil {
		t.Fatal(err)
	}
	parent, child := exportSpansTo(t, exp)
	checkSpans(t, srv, parent, child)
	reqs := srv.Requests()
	if reqs[0].Path != otlptest.GRPCTracesMethod || reqs[0].Header.Get("X-Tenant") != "t1" {
		t.Errorf("request = %+v", reqs[0])
	}
}

func TestWithoutGRPCHasNoAddress(t *testing.T) {
	srv := newServer(t)
	if srv.GRPCAddr() != "" || srv.GRPCURL() != "" {
		t.Errorf("gRPC address %q/%q without WithGRPC", srv.GRPCAddr(), srv.GRPCURL())
	}
}

func newGRPCExporter(t *testing.T, srv *otlptest.Server) *otlptrace.Exporter {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(srv.GRPCAddr()), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = exp.Shutdown(ctx)
	})
	return exp
}

func oneSpan() []sdktrace.ReadOnlySpan {
	return tracetest.SpanStubs{{Name: "stub"}}.Snapshots()
}

func TestGRPCReject(t *testing.T) {
	srv := newServer(t, otlptest.WithGRPC(), otlptest.WithMode(otlptest.Reject))
	exp := newGRPCExporter(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := exp.ExportSpans(ctx, oneSpan())
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
		t.Fatalf("export = %v, want InvalidArgument", err)
	}
	if n := len(srv.Requests()); n != 1 || len(srv.Spans()) != 0 {
		t.Errorf("requests %d spans %d, want 1 and 0", n, len(srv.Spans()))
	}
}

func TestGRPCHangReleasedByClose(t *testing.T) {
	srv := otlptest.NewServer(otlptest.WithGRPC(), otlptest.WithMode(otlptest.Hang))
	exp := newGRPCExporter(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- exp.ExportSpans(ctx, oneSpan()) }()
	if _, err := srv.WaitRequests(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("export over a hanging server returned early: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	srv.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("export over a hanging server succeeded")
		}
	case <-ctx.Done():
		t.Fatal("Close did not release the hanging call")
	}
}
