package main

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestParseConfig(t *testing.T) {
	for _, env := range []string{"PULSAR_URL", "WATERMILL_REDIS_ADDR", "PUBSUB_EMULATOR_HOST"} {
		t.Setenv(env, "")
	}
	cfg, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.role != roleAll || cfg.addr != "127.0.0.1:0" || cfg.redisAddr != "" || cfg.gatewaySampleRatio != 1 {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = parseConfig([]string{"--role", "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:8080" || cfg.redisAddr != defaultRedisAddr {
		t.Errorf("gateway role: addr %q, redis %q", cfg.addr, cfg.redisAddr)
	}
	t.Setenv("WATERMILL_REDIS_ADDR", "10.0.0.1:6379")
	if cfg, _ = parseConfig(nil); cfg.redisAddr != "10.0.0.1:6379" {
		t.Errorf("WATERMILL_REDIS_ADDR ignored: %q", cfg.redisAddr)
	}

	for _, args := range [][]string{
		{"--role", "worker"},
		{"--sample-ratio", "1.5"},
		{"--sample-ratio", "-0.1"},
		{"--timeout", "0s"},
		{"extra"},
	} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("parseConfig(%q) accepted", args)
		}
	}
}

func TestCollectorForgetsOldestTraces(t *testing.T) {
	c := newCollector()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := tp.Tracer("test")
	var first, last sdktrace.ReadOnlySpan
	for i := 0; i < maxTraces+10; i++ {
		_, span := tracer.Start(context.Background(), "root")
		span.End()
		if i == 0 {
			first = span.(sdktrace.ReadOnlySpan)
		}
		last = span.(sdktrace.ReadOnlySpan)
	}
	if n := c.Count(); n != maxTraces {
		t.Errorf("holding %d spans, want %d", n, maxTraces)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if spans, _ := c.Take(done, first.SpanContext().TraceID()); len(spans) != 0 {
		t.Errorf("the oldest trace is still held")
	}
	spans, complete := c.Take(done, last.SpanContext().TraceID())
	if len(spans) != 1 || !complete || spans[0].Name() != "root" {
		t.Errorf("newest trace: %d spans, complete %t", len(spans), complete)
	}
	if n := c.Count(); n != maxTraces-1 {
		t.Errorf("after Take holding %d spans, want %d", n, maxTraces-1)
	}
}

func TestCollectorTakeWaitsForOpenSpans(t *testing.T) {
	c := newCollector()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, root := tp.Tracer("test").Start(context.Background(), "root")
	_, child := tp.Tracer("test").Start(ctx, "child")
	child.End()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if spans, complete := c.Take(done, root.SpanContext().TraceID()); complete || len(spans) != 1 {
		t.Fatalf("with root open: %d spans, complete %t; want 1, false", len(spans), complete)
	}
	// That Take forgot the trace, so its root's end is dropped; a fresh
	// trace shows the wait.
	root.End()
	if n := c.Count(); n != 0 {
		t.Fatalf("a taken trace came back: %d spans", n)
	}
	ctx, root = tp.Tracer("test").Start(context.Background(), "root")
	_, child = tp.Tracer("test").Start(ctx, "child")
	child.End()
	taken := make(chan int, 1)
	go func() {
		spans, _ := c.Take(context.Background(), root.SpanContext().TraceID())
		taken <- len(spans)
	}()
	root.End()
	if n := <-taken; n != 2 {
		t.Errorf("took %d spans, want 2", n)
	}
}
