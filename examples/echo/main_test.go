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
	t.Log("\n" + out.String())
	tracecheck.Assert(t, spans, tracecheck.MustParse(
		"gateway:gateway POST /v1/process (server) > gateway:POST (client) > "+
			"api:POST /v1/process (server) {http.route=/v1/process, http.response.status_code=202} > "+
			"api:send jobs (producer) {messaging.system=pulsar} > "+
			"worker:process jobs (consumer) > worker:finish job (internal)"))
	ids := tracecheck.TraceIDs(spans)
	if len(ids) != 1 || !bytes.Contains(out.Bytes(), []byte("traceresponse 00-"+ids[0]+"-")) {
		t.Errorf("the traceresponse header does not carry trace %v:\n%s", ids, out.String())
	}
}
