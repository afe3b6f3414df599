package main

import (
	"bytes"
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/tracecheck"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Started by an init function of a Pub/Sub client dependency.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		// The client's stream keepalive loop notices that Receive returned
		// only when its next ping timer fires.
		goleak.IgnoreTopFunction("cloud.google.com/go/pubsub/v2.(*messageIterator).streamKeepAliveHandler"),
	)
}

func TestRun(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	var out bytes.Buffer
	spans, err := run(context.Background(), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	work := tracecheck.SpanRef{Service: "orders", Name: "place order"}
	send := tracecheck.SpanRef{Service: "orders", Name: "send " + topicID}
	err = tracecheck.Check(spans, tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		{Service: work.Service, Name: work.Name, Kind: tracecheck.KindInternal},
		{Service: send.Service, Name: send.Name, Kind: tracecheck.KindProducer, Parent: work,
			Attributes: map[string]string{"messaging.system": "gcp_pubsub", "messaging.message.id": ""}},
		{Service: "mailer", Name: "process " + subscription, Kind: tracecheck.KindConsumer, Parent: send,
			Attributes: map[string]string{"messaging.system": "gcp_pubsub", "messaging.destination.subscription.name": subscription}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("(same trace: true)")) {
		t.Errorf("output does not report one trace:\n%s", out.String())
	}
}
