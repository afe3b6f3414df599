//go:build e2e

package main

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/asynctrace/asynctrace/tracecheck"
)

// The end-to-end check reads what the services of a scripts/e2e.sh run
// exported to Jaeger. It is built only with the e2e tag.
var (
	e2eJaeger        = flag.String("e2e.jaeger", "http://127.0.0.1:16686", "Jaeger query API base URL")
	e2eTrace         = flag.String("e2e.trace", "", "trace id of the sampled request")
	e2eUnsampled     = flag.String("e2e.unsampled", "", "trace id of the request the gateway did not sample")
	e2eServicePrefix = flag.String("e2e.service-prefix", "", "prefix of the services' names (OTEL_SERVICE_NAME = prefix + default name)")
	e2eWatermill     = flag.String("e2e.watermill-topic", defaultTopology().EventsTopic, "Watermill topic (Redis stream) of the run")
	e2eWait          = flag.Duration("e2e.wait", 30*time.Second, "how long to wait for Jaeger to hold the whole trace")
)

func e2eTopology() topology {
	t := defaultTopology()
	t.GatewayService = *e2eServicePrefix + t.GatewayService
	t.WorkerService = *e2eServicePrefix + t.WorkerService
	t.RouterService = *e2eServicePrefix + t.RouterService
	t.NotifierService = *e2eServicePrefix + t.NotifierService
	t.EventsTopic = *e2eWatermill
	return t
}

// TestE2ETraceInJaeger checks that the sampled request left one complete
// trace in Jaeger, shaped as expectedTrace says, across four processes.
func TestE2ETraceInJaeger(t *testing.T) {
	if *e2eTrace == "" {
		t.Fatal("-e2e.trace is required")
	}
	want := expectedTrace(e2eTopology(), "redis")
	// Jaeger stores spans asynchronously: read until the trace matches, or
	// until it has not changed for a while (the services flushed before the
	// check started, so nothing more is coming); a mismatch is reported with
	// the expected tree and the one found.
	jaeger := tracecheck.NewJaegerSource(*e2eJaeger)
	if tracecheck.AssertEventually(t, jaeger, *e2eTrace, want, tracecheck.WithTimeout(*e2eWait), tracecheck.WithSettle(5*time.Second)) {
		spans, _ := jaeger.Trace(context.Background(), *e2eTrace)
		var b strings.Builder
		_ = tracecheck.Render(&b, spans)
		t.Logf("trace %s in Jaeger matches the expected tree:\n%s", *e2eTrace, b.String())
	}
}

// TestE2EUnsampledLeavesNothing checks that the request the gateway did not
// sample left no span in any service: neither under its own trace id nor as
// a new trace started by a service that lost the sampled flag.
func TestE2EUnsampledLeavesNothing(t *testing.T) {
	if *e2eUnsampled == "" || *e2eTrace == "" {
		t.Fatal("-e2e.unsampled and -e2e.trace are required")
	}
	tracecheck.AssertEventually(t, tracecheck.NewJaegerSource(*e2eJaeger), *e2eUnsampled, tracecheck.Nothing(),
		tracecheck.WithTimeout(*e2eWait), tracecheck.WithSettle(2*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), *e2eWait)
	defer cancel()
	topo := e2eTopology()
	for _, svc := range []string{topo.GatewayService, topo.WorkerService, topo.RouterService, topo.NotifierService} {
		spans, err := tracecheck.FindTraces(ctx, *e2eJaeger, svc, time.Hour)
		if err != nil {
			t.Fatalf("traces of %s: %v", svc, err)
		}
		if ids := tracecheck.TraceIDs(spans); len(ids) != 1 || ids[0] != *e2eTrace {
			var b strings.Builder
			_ = tracecheck.Render(&b, spans)
			t.Errorf("service %s took part in traces %v, want only the sampled %s:\n%s", svc, ids, *e2eTrace, b.String())
		}
	}
}
