package carrier_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace/carrier"
)

func BenchmarkInject(b *testing.B) {
	props := map[string]string{"order-id": "42", "tenant": "acme"}
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"no-span", context.Background()},
		{"span", sampledContext(b)},
		{"span+baggage", withBaggage(b, sampledContext(b), "tenant=acme", "tier=gold")},
	}
	inj := carrier.Injector{Propagator: w3c}
	for _, c := range cases {
		b.Run(c.name+"/asynctrace", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = inj.Inject(c.ctx, props)
			}
		})
		// The unsafe hand-written way, for comparison: it writes into the
		// caller's map instead of a copy.
		b.Run(c.name+"/in-place", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := map[string]string{"order-id": "42", "tenant": "acme"}
				w3c.Inject(c.ctx, propagation.MapCarrier(m))
			}
		})
	}
}

func BenchmarkExtract(b *testing.B) {
	cases := map[string]map[string]string{
		"no-context":   {"order-id": "42"},
		"traceparent":  {"order-id": "42", "traceparent": parentHdr},
		"googclient":   {"order-id": "42", "googclient_traceparent": parentHdr},
		"with-baggage": {"order-id": "42", "traceparent": parentHdr, "baggage": "tenant=acme,tier=gold"},
	}
	for _, name := range []string{"no-context", "traceparent", "googclient", "with-baggage"} {
		props := cases[name]
		b.Run(name+"/asynctrace", func(b *testing.B) {
			ex := carrier.Extractor{Propagator: w3c}
			b.ReportAllocs()
			for b.Loop() {
				_ = ex.Extract(context.Background(), props)
			}
		})
		b.Run(name+"/map-carrier", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = w3c.Extract(context.Background(), propagation.MapCarrier(props))
			}
		})
	}
}
