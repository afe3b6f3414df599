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
	client := tracecheck.SpanRef{Service: "gateway", Name: "GET"}
	tracecheck.Assert(t, spans, tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		{Service: client.Service, Name: client.Name, Kind: tracecheck.KindClient},
		{Service: "api", Name: "GET /v1/orders/:id", Kind: tracecheck.KindServer, Parent: client,
			Attributes: map[string]string{"http.route": "/v1/orders/:id", "http.response.status_code": "200"}},
	}})
	ids := tracecheck.TraceIDs(spans)
	if len(ids) != 1 || !bytes.Contains(out.Bytes(), []byte("traceresponse: 00-"+ids[0]+"-")) {
		t.Errorf("the traceresponse header does not carry trace %v:\n%s", ids, out.String())
	}
}
