package provider_test

import (
	"context"
	"testing"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
	"go.opentelemetry.io/otel/propagation"
)

// BenchmarkSpan measures one span start/end plus a propagator inject, the
// per-message cost a service pays, under the set-ups a service may run.
func BenchmarkSpan(b *testing.B) {
	cases := []struct {
		name string
		env  map[string]string
		opts []provider.Option
	}{
		{name: "sdk-disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true"}},
		{name: "sampled-otlp", opts: []provider.Option{provider.WithEndpoint(otlptest.UnusedURL(b))}},
		{name: "ratio-0-root", opts: []provider.Option{provider.WithSampleRatio(0), provider.WithTracesExporter("none")}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			for k, v := range bc.env {
				b.Setenv(k, v)
			}
			ctx := context.Background()
			opts := append([]provider.Option{provider.WithoutGlobals(), provider.WithMetricsExporter("none")}, bc.opts...)
			p, err := provider.Start(ctx, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Shutdown(ctx)
			tr := p.TracerProvider().Tracer("bench")
			prop := p.Propagator()
			carrier := propagation.MapCarrier{}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sctx, span := tr.Start(ctx, "send orders")
				prop.Inject(sctx, carrier)
				span.End()
			}
		})
	}
}
