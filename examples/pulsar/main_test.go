package main

import (
	"bytes"
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
	"github.com/asynctrace/asynctrace/tracecheck"
)

func TestMain(m *testing.M) {
	var opts []goleak.Option
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
}

func TestRun(t *testing.T) {
	t.Setenv("PULSAR_URL", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	var out bytes.Buffer
	spans, err := run(context.Background(), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	work := tracecheck.SpanRef{Service: "checkout", Name: "place order"}
	send := tracecheck.SpanRef{Service: "checkout", Name: "send " + topic}
	err = tracecheck.Check(spans, tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		{Service: work.Service, Name: work.Name, Kind: tracecheck.KindInternal},
		{Service: send.Service, Name: send.Name, Kind: tracecheck.KindProducer, Parent: work,
			Attributes: map[string]string{"messaging.system": "pulsar", "messaging.destination.name": topic}},
		{Service: "billing", Name: "process " + topic, Kind: tracecheck.KindConsumer, Parent: send,
			Attributes: map[string]string{"messaging.system": "pulsar", "messaging.operation.type": "process"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("(same trace: true)")) {
		t.Errorf("output does not report one trace:\n%s", out.String())
	}
}
