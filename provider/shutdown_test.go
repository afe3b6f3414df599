package provider_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/goleak"
)

// generous bounds: these guard against blocking, not measure speed.
const (
	startBound    = 5 * time.Second
	shutdownCtx   = 2 * time.Second
	shutdownBound = 10 * time.Second
)

func startTimed(t *testing.T, opts ...provider.Option) *provider.Provider {
	t.Helper()
	begin := time.Now()
	p, err := provider.Start(context.Background(), opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if d := time.Since(begin); d > startBound {
		t.Fatalf("Start took %v", d)
	}
	return p
}

func shutdownTimed(t *testing.T, p *provider.Provider) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownCtx)
	defer cancel()
	begin := time.Now()
	err := p.Shutdown(ctx)
	if d := time.Since(begin); d > shutdownBound {
		t.Fatalf("Shutdown took %v with a %v context", d, shutdownCtx)
	}
	return err
}

func TestUnreachableCollector(t *testing.T) {
	exportErrors.reset()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlptest.UnusedURL(t))
	p := startTimed(t, provider.WithServiceName("checkout"), provider.WithoutGlobals(), provider.WithLogs())
	emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("provider-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	// A refused connection is not retried. The span batch is dropped and
	// its error goes to the global error handler; the final metric export
	// fails and the meter provider returns that error from Shutdown.
	err := shutdownTimed(t, p)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(err.Error(), "provider: metrics") {
		t.Fatalf("Shutdown = %v, want the metric export's connection refused error", err)
	}
	if len(exportErrors.all()) == 0 {
		t.Error("the failed span export was not reported to the otel error handler")
	}
}

func TestHangingCollector(t *testing.T) {
	srv := newServer(t, otlptest.WithMode(otlptest.Hang))
	p := startTimed(t, provider.WithServiceName("checkout"), provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(), provider.WithLogs())
	emitTrace(p)
	ctr, _ := p.MeterProvider().Meter("provider-test").Int64Counter("orders.placed")
	ctr.Add(context.Background(), 1)
	err := shutdownTimed(t, p)
	// The collector accepted the export requests and never answered, so the
	// pipelines give up when the context ends and say so.
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	reqs := srv.Requests()
	paths := map[string]bool{}
	for _, r := range reqs {
		paths[r.Path] = true
	}
	if !paths[otlptest.TracesPath] || !paths[otlptest.MetricsPath] {
		t.Errorf("requests reached %v, want traces and metrics", paths)
	}
	// Release the hanging requests so their goroutines end before goleak looks.
	srv.Close()
}

func TestShutdownTwiceAndFlushAfter(t *testing.T) {
	srv := newServer(t)
	p := start(t, provider.WithEndpoint(srv.URL()), provider.WithoutGlobals())
	emitTrace(p)
	ctx := context.Background()
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if _, err := srv.WaitSpans(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("first Shutdown: %v", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	// Spans after shutdown are dropped, not exported and not a panic.
	before := len(srv.Spans())
	emitTrace(p)
	_ = p.ForceFlush(ctx)
	if after := len(srv.Spans()); after != before {
		t.Errorf("spans after Shutdown were exported: %d -> %d", before, after)
	}
}

func TestShutdownWithExpiredContext(t *testing.T) {
	srv := newServer(t, otlptest.WithMode(otlptest.Hang))
	p := startTimed(t, provider.WithEndpoint(srv.URL()), provider.WithoutGlobals(), provider.WithLogs())
	emitTrace(p)
	slog.New(p.LogHandler()).Info("shutting down")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	begin := time.Now()
	err := p.Shutdown(ctx)
	if d := time.Since(begin); d > shutdownBound {
		t.Fatalf("Shutdown with a cancelled context took %v", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	srv.Close()
}

func TestNilProviderIsSafe(t *testing.T) {
	var p *provider.Provider
	ctx := context.Background()
	if err := p.Shutdown(ctx); err != nil {
		t.Error(err)
	}
	if err := p.ForceFlush(ctx); err != nil {
		t.Error(err)
	}
	_, span := p.TracerProvider().Tracer("nil").Start(ctx, "op")
	span.End()
	if span.IsRecording() {
		t.Error("nil provider records")
	}
	ctr, _ := p.MeterProvider().Meter("nil").Int64Counter("c")
	ctr.Add(ctx, 1)
	slog.New(p.LogHandler()).Info("dropped")
	p.Propagator().Inject(ctx, propagation.MapCarrier{})
	if p.Resource() != nil || p.LoggerProvider() == nil {
		t.Error("unexpected nil-provider accessors")
	}
}

// silentCollector listens on a local port, accepts every connection and
// never reads from it nor answers, like a collector that hangs.
func silentCollector(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestShutdownLeavesNothingRunning(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			endpoint := silentCollector(t)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
			t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "5000")
			// The listener's goroutine is the test's; everything started
			// from here on belongs to the provider.
			before := goleak.IgnoreCurrent()
			p := startTimed(t, provider.WithEndpoint(endpoint), provider.WithoutGlobals(), provider.WithLogs())
			tr := p.TracerProvider().Tracer("shutdown-test")
			for range 5000 {
				_, span := tr.Start(context.Background(), "op")
				span.End()
			}
			slog.New(p.LogHandler()).Info("stopping")
			ctr, _ := p.MeterProvider().Meter("shutdown-test").Int64Counter("orders.placed")
			ctr.Add(context.Background(), 1)

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			err := p.Shutdown(ctx)
			cancel()
			// The exporters' goroutines and connections must be gone within
			// a few seconds, far below the exporters' own timeouts (10 s per
			// OTLP attempt, 30 s per batch). goleak.Find itself retries for
			// about half a second.
			leak := goleak.Find(before)
			for deadline := time.Now().Add(3 * time.Second); leak != nil && time.Now().Before(deadline); {
				leak = goleak.Find(before)
			}
			if leak != nil {
				t.Errorf("provider goroutines still running after Shutdown returned: %v", leak)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
			}
			for _, want := range []string{"traces: otlp exporter: 5000 spans dropped", "logs: otlp exporter: 1 log record dropped",
				"metrics: 1 metric not exported"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Shutdown error %q\n does not say %q", err, want)
				}
			}
		})
	}
}
