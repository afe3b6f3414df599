package carrier_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/carrier"
)

// FuzzExtract feeds arbitrary header values to extraction. The seed corpus
// runs with every `go test`; `go test -fuzz FuzzExtract ./carrier` explores.
func FuzzExtract(f *testing.F) {
	f.Add(parentHdr, "vendor=1", "tenant=acme", false)
	f.Add("00-"+traceIDHex+"-"+spanIDHex+"-00", "", "", true)
	f.Add("not-a-header", "===,,,", "%zz;;=", false)
	f.Add("00-"+traceIDHex+"-"+spanIDHex+"-01-extra", "a=b,a=c", "k=v;prop=1", true)
	f.Add("\x00\xff", "\x00", "\xff", false)

	f.Fuzz(func(t *testing.T, traceparent, tracestate, bag string, google bool) {
		prefix := ""
		if google {
			prefix = carrier.GoogleClientPrefix
		}
		props := map[string]string{
			prefix + "traceparent": traceparent,
			prefix + "tracestate":  tracestate,
			"baggage":              bag,
		}
		ctx := carrier.Extractor{Propagator: w3c}.Extract(context.Background(), props)
		sc := trace.SpanContextFromContext(ctx)
		if sc.IsValid() {
			// A parent is only found when the header is well formed: the
			// ids it yields must re-encode to the value received.
			// Any version but ff is accepted, so compare from the first dash.
			if want := "-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-"; len(traceparent) < 2+len(want) || traceparent[2:2+len(want)] != want {
				t.Fatalf("parent %v extracted from %q", sc, traceparent)
			}
		}
		// Injecting what was extracted must stay within the limits.
		out := carrier.Injector{Propagator: w3c, Limits: carrier.PubSubLimits}.Inject(ctx, nil)
		for k, v := range out {
			if len(k) > 256 || len(v) > 1024 {
				t.Fatalf("limit broken: %q=%d bytes", k, len(v))
			}
		}
	})
}
