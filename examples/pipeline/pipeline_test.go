package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/tracecheck"
)

func init() {
	// Broker client warnings would interleave with test output.
	stderr = io.Discard
}

// testConfig is the single-process pipeline on embedded brokers, whatever
// the environment of the test says.
func testConfig(t *testing.T, extra ...string) config {
	t.Helper()
	for _, env := range []string{"PULSAR_URL", "WATERMILL_REDIS_ADDR", "PUBSUB_EMULATOR_HOST",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
	cfg, err := parseConfig(append([]string{"--timeout", "30s"}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPipelineTraceCrossesEveryHop(t *testing.T) {
	cfg := testConfig(t)
	var out bytes.Buffer
	res, err := processOne(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("pipeline: %v\n%s", err, out.String())
	}
	if err := tracecheck.Check(res.spans, expectedTrace(cfg.topo, "watermill")); err != nil {
		t.Fatal(err)
	}
	// The trace the caller is told about is the one that was recorded.
	if ids := tracecheck.TraceIDs(res.spans); len(ids) != 1 || ids[0] != res.submitted.TraceID {
		t.Errorf("trace ids %v, gateway answered %s", ids, res.submitted.TraceID)
	}
	if !strings.Contains(res.submitted.TraceResponse, res.submitted.TraceID) || !strings.HasSuffix(res.submitted.TraceResponse, "-01") {
		t.Errorf("traceresponse %q does not carry sampled trace %s", res.submitted.TraceResponse, res.submitted.TraceID)
	}
	if res.completion.TraceID != res.submitted.TraceID || !res.completion.Sampled {
		t.Errorf("notifier saw trace %s sampled=%t, want %s sampled", res.completion.TraceID, res.completion.Sampled, res.submitted.TraceID)
	}
	// What a person sees: the tree with every service.
	for _, want := range []string{"trace " + res.submitted.TraceID, "8 spans, 4 services", "`- complete job"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPipelineRespectsUnsampledEntry(t *testing.T) {
	cfg := testConfig(t, "--sample-ratio", "0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := startPipeline(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	sub, err := submit(ctx, p.gatewayURL, "not sampled")
	if err != nil {
		t.Fatal(err)
	}
	done, err := p.wait(ctx, sub.JobID)
	if err != nil {
		t.Fatalf("the job did not complete: %v", err)
	}
	// The trace context did travel: the last hop saw the gateway's trace,
	// flagged as not sampled.
	if done.TraceID != sub.TraceID || done.Sampled {
		t.Errorf("notifier saw trace %s sampled=%t, want %s not sampled", done.TraceID, done.Sampled, sub.TraceID)
	}
	if !strings.HasSuffix(sub.TraceResponse, "-00") {
		t.Errorf("traceresponse %q, want the unsampled flag 00", sub.TraceResponse)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every service stopped, so every span that was started has ended.
	if n := p.collector.Count(); n != 0 {
		t.Errorf("%d spans recorded for an unsampled request, want none", n)
	}
}

// TestPipelineOverRedisStreams runs the Watermill hop over Redis Streams,
// as the services do when they run as separate processes.
func TestPipelineOverRedisStreams(t *testing.T) {
	addr := requireRedis(t)
	stream := "job-events-test-" + newJobID()
	cfg := testConfig(t, "--redis", addr, "--watermill-topic", stream)
	t.Cleanup(func() { deleteStream(t, addr, stream) })
	var out bytes.Buffer
	res, err := processOne(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("pipeline: %v\n%s", err, out.String())
	}
	if err := tracecheck.Check(res.spans, expectedTrace(cfg.topo, "redis")); err != nil {
		t.Fatal(err)
	}
}

// TestPipelineReportsAnIncompleteJob gives the job no time at all: the run
// must fail with a message saying so, after printing what was recorded.
func TestPipelineReportsAnIncompleteJob(t *testing.T) {
	cfg := testConfig(t, "--timeout", "1ns")
	var out bytes.Buffer
	_, err := processOne(context.Background(), cfg, &out)
	if err == nil {
		t.Fatalf("no error for a job given 1ns:\n%s", out.String())
	}
	if !strings.Contains(err.Error(), "did not complete within 1ns") {
		t.Errorf("error %q does not say the job did not complete", err)
	}
	// The gateway's spans had ended before it answered.
	if !strings.Contains(out.String(), "POST /v1/process") {
		t.Errorf("output lacks the spans recorded so far:\n%s", out.String())
	}
}
