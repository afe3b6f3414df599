package provider_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/provider"
)

func TestBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []provider.Option
		want string
	}{
		{name: "ratio above one", opts: []provider.Option{provider.WithSampleRatio(1.5)}, want: "WithSampleRatio: sample ratio 1.5 is outside [0, 1]"},
		{name: "negative ratio", opts: []provider.Option{provider.WithSampleRatio(-0.1)}, want: "sample ratio -0.1 is outside [0, 1]"},
		{name: "NaN ratio", opts: []provider.Option{provider.WithSampleRatio(math.NaN())}, want: "sample ratio NaN is outside [0, 1]"},
		{name: "env ratio above one", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
			want: "OTEL_TRACES_SAMPLER_ARG: sample ratio 2 is outside [0, 1]"},
		{name: "env ratio not a number", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "ten percent"},
			want: `OTEL_TRACES_SAMPLER_ARG: "ten percent" is not a number`},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, want: `OTEL_TRACES_SAMPLER: unknown sampler "sometimes"`},
		{name: "unsupported remote sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, want: `unknown sampler "jaeger_remote"`},
		{name: "option endpoint without scheme", opts: []provider.Option{provider.WithEndpoint("collector:4318")}, want: `WithEndpoint: endpoint "collector:4318" needs an http:// or https:// scheme`},
		{name: "option endpoint unparsable", opts: []provider.Option{provider.WithEndpoint("http://[::1")}, want: `WithEndpoint: endpoint "http://[::1" is not a URL`},
		{name: "env endpoint without host", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://"}, want: `OTEL_EXPORTER_OTLP_ENDPOINT: endpoint "http://" has no host`},
		{name: "env signal endpoint bad scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://collector"},
			want: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint "ftp://collector" needs an http:// or https:// scheme`},
		{name: "env metrics endpoint unparsable", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://col lector:4318"},
			want: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint"},
		{name: "unknown traces exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, want: `OTEL_TRACES_EXPORTER: unknown exporter "zipkin"`},
		{name: "unknown metrics exporter", env: map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"}, want: `OTEL_METRICS_EXPORTER: unknown exporter "prometheus"`},
		{name: "unknown logs exporter", env: map[string]string{"OTEL_LOGS_EXPORTER": "file"}, opts: []provider.Option{provider.WithLogs()},
			want: `OTEL_LOGS_EXPORTER: unknown exporter "file"`},
		{name: "none combined", env: map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"}, want: `OTEL_TRACES_EXPORTER: "none,otlp" combines none with other exporters`},
		{name: "blank exporter list", env: map[string]string{"OTEL_METRICS_EXPORTER": " , "}, want: "OTEL_METRICS_EXPORTER: no exporter named"},
		{name: "unknown exporter option", opts: []provider.Option{provider.WithTracesExporter("jaeger")}, want: `WithTracesExporter: unknown exporter "jaeger"`},
		{name: "unknown propagator", env: map[string]string{"OTEL_PROPAGATORS": "tracecontext,w3c"}, want: "OTEL_PROPAGATORS: unknown propagator: w3c"},
		{name: "unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, want: `OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "thrift"`},
		{name: "json metrics", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"},
			want: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol http/json is not supported for metrics"},
		{name: "json logs", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, opts: []provider.Option{provider.WithLogs(), provider.WithMetricsExporter("none")},
			want: "OTEL_EXPORTER_OTLP_PROTOCOL: protocol http/json is not supported for logs"},
		{name: "unknown protocol option", opts: []provider.Option{provider.WithProtocol("udp")}, want: `WithProtocol: unknown protocol "udp"`},
		{name: "malformed resource attributes", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=payments,oops"}, want: "OTEL_RESOURCE_ATTRIBUTES:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := append([]provider.Option{provider.WithoutGlobals()}, tt.opts...)
			p, err := provider.Start(context.Background(), opts...)
			if err == nil {
				_ = p.Shutdown(context.Background())
				t.Fatalf("Start succeeded, want error containing %q", tt.want)
			}
			if p != nil {
				t.Errorf("Start returned a provider with the error")
			}
			if !errors.Is(err, provider.ErrInvalidConfig) {
				t.Errorf("error %q does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\n does not contain %q", err, tt.want)
			}
		})
	}
}

func TestGoodConfigurationVariants(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []provider.Option
	}{
		{name: "defaults"},
		{name: "exporter list with spaces and case", env: map[string]string{"OTEL_TRACES_EXPORTER": " OTLP , console "}, opts: []provider.Option{provider.WithConsoleExporter(new(strings.Builder))}},
		{name: "none everywhere", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}, opts: []provider.Option{provider.WithLogs()}},
		{name: "all propagators", env: map[string]string{"OTEL_PROPAGATORS": "tracecontext, baggage,b3,b3multi,jaeger,xray,ottrace"}},
		{name: "propagators none", env: map[string]string{"OTEL_PROPAGATORS": "none"}},
		{name: "ratio bounds", opts: []provider.Option{provider.WithSampleRatio(0), provider.WithSampleRatio(1)}},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, opts: []provider.Option{provider.WithLogs()}},
		{name: "https endpoint with path", opts: []provider.Option{provider.WithEndpoint("https://" + otlptest.UnusedAddr(t) + "/otlp/")}},
		{name: "insecure is ignored beside an env endpoint", opts: []provider.Option{provider.WithInsecure()}},
		{name: "sampler arg ignored without ratio sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "always_on", "OTEL_TRACES_SAMPLER_ARG": "junk"}},
		{name: "sdk disabled skips other checks", env: map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_SAMPLER": "sometimes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Never the exporters' default localhost:4318, where a real
			// collector may be listening.
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlptest.UnusedURL(t))
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if strings.HasPrefix(tt.name, "https endpoint") {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
			}
			opts := append([]provider.Option{provider.WithoutGlobals()}, tt.opts...)
			p := startTimed(t, opts...)
			// Nothing listens on the default endpoint; only boundedness matters.
			_ = shutdownTimed(t, p)
		})
	}
}
