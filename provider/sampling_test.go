package provider_test

import (
	"context"
	"testing"

	"github.com/asynctrace/asynctrace/provider"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var (
	remoteTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	remoteSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func remoteParent(sampled bool) context.Context {
	cfg := trace.SpanContextConfig{TraceID: remoteTraceID, SpanID: remoteSpanID, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(cfg))
}

// sampledFor reports whether a root span, a child of a sampled remote parent
// and a child of an unsampled remote parent are sampled, and checks that
// exactly the sampled ones reached the span processor.
func sampledFor(t *testing.T, opts ...provider.Option) (root, sampledParent, unsampledParent bool) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	opts = append([]provider.Option{provider.WithoutGlobals(), provider.WithTracesExporter("none"),
		provider.WithMetricsExporter("none"), provider.WithSpanProcessor(rec)}, opts...)
	p := start(t, opts...)
	tr := p.TracerProvider().Tracer("sampling-test")
	run := func(ctx context.Context, name string) bool {
		_, s := tr.Start(ctx, name)
		s.End()
		return s.SpanContext().IsSampled()
	}
	root = run(context.Background(), "root")
	sampledParent = run(remoteParent(true), "child-of-sampled")
	unsampledParent = run(remoteParent(false), "child-of-unsampled")
	ended := map[string]bool{}
	for _, s := range rec.Ended() {
		ended[s.Name()] = true
		if s.Name() != "root" && s.Parent().SpanID() != remoteSpanID {
			t.Errorf("%s: parent %v, want remote %v", s.Name(), s.Parent().SpanID(), remoteSpanID)
		}
	}
	for name, sampled := range map[string]bool{"root": root, "child-of-sampled": sampledParent, "child-of-unsampled": unsampledParent} {
		if ended[name] != sampled {
			t.Errorf("%s: sampled=%v but recorded=%v", name, sampled, ended[name])
		}
	}
	return root, sampledParent, unsampledParent
}

func TestSampling(t *testing.T) {
	tests := []struct {
		name                  string
		env                   map[string]string
		opts                  []provider.Option
		root, sampled, unsamp bool
	}{
		{name: "default is parent-based always on", root: true, sampled: true, unsamp: false},
		{name: "ratio 0 still follows a sampled parent", opts: []provider.Option{provider.WithSampleRatio(0)}, root: false, sampled: true, unsamp: false},
		{name: "ratio 1", opts: []provider.Option{provider.WithSampleRatio(1)}, root: true, sampled: true, unsamp: false},
		{name: "env always_on ignores the parent", env: map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, root: true, sampled: true, unsamp: true},
		{name: "env always_off", env: map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, root: false, sampled: false, unsamp: false},
		{name: "env traceidratio 0 ignores the parent", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, root: false, sampled: false, unsamp: false},
		{name: "env traceidratio without arg is 1", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio"}, root: true, sampled: true, unsamp: true},
		{name: "env parentbased_always_on", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, root: true, sampled: true, unsamp: false},
		{name: "env parentbased_always_off", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, root: false, sampled: true, unsamp: false},
		{name: "env parentbased_traceidratio 0", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, root: false, sampled: true, unsamp: false},
		{name: "env beats option", env: map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, opts: []provider.Option{provider.WithSampleRatio(1)}, root: false, sampled: false, unsamp: false},
		{name: "custom sampler option", opts: []provider.Option{provider.WithSampler(sdktrace.NeverSample())}, root: false, sampled: false, unsamp: false},
		{name: "env sampler name is case-insensitive", env: map[string]string{"OTEL_TRACES_SAMPLER": "Always_Off"}, root: false, sampled: false, unsamp: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			root, sampled, unsamp := sampledFor(t, tt.opts...)
			if root != tt.root || sampled != tt.sampled || unsamp != tt.unsamp {
				t.Errorf("root/sampled-parent/unsampled-parent = %v/%v/%v, want %v/%v/%v",
					root, sampled, unsamp, tt.root, tt.sampled, tt.unsamp)
			}
		})
	}
}
