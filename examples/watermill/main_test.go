package main

import (
	"bytes"
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/tracecheck"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	var out bytes.Buffer
	spans, err := run(context.Background(), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	work := tracecheck.SpanRef{Service: "orders", Name: "place order"}
	sendPlaced := tracecheck.SpanRef{Service: "orders", Name: "send " + placedTopic}
	processPlaced := tracecheck.SpanRef{Service: "warehouse", Name: "process " + placedTopic}
	sendReserved := tracecheck.SpanRef{Service: "warehouse", Name: "send " + reservedTopic}
	err = tracecheck.Check(spans, tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		{Service: work.Service, Name: work.Name, Kind: tracecheck.KindInternal},
		{Service: sendPlaced.Service, Name: sendPlaced.Name, Kind: tracecheck.KindProducer, Parent: work},
		{Service: processPlaced.Service, Name: processPlaced.Name, Kind: tracecheck.KindConsumer, Parent: sendPlaced,
			Attributes: map[string]string{"watermill.handler.name": "reserve-stock"}},
		{Service: sendReserved.Service, Name: sendReserved.Name, Kind: tracecheck.KindProducer, Parent: processPlaced},
		{Service: "warehouse", Name: "process " + reservedTopic, Kind: tracecheck.KindConsumer, Parent: sendReserved,
			Attributes: map[string]string{"watermill.handler.name": "ship"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("(same trace: true)")) {
		t.Errorf("output does not report one trace:\n%s", out.String())
	}
}
