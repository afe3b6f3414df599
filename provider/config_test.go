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
			want: `OTEL_TRACES_SAMPLER_ARG: "ten percent" is not a number (want a sample ratio in [0, 1], e.g. 0.25)`},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, want: `OTEL_TRACES_SAMPLER: unknown sampler "sometimes" ` +
			"(want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio)"},
		{name: "unsupported remote sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, want: `unknown sampler "jaeger_remote" (want always_on,`},
		{name: "option endpoint without scheme", opts: []provider.Option{provider.WithEndpoint("collector:4318")},
			want: `WithEndpoint: endpoint "collector:4318" needs an http:// or https:// scheme (want http://host:port or https://host:port`},
		{name: "option endpoint unparsable", opts: []provider.Option{provider.WithEndpoint("http://[::1")}, want: `WithEndpoint: endpoint "http://[::1" is not a URL`},
		{name: "env endpoint without host", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://"}, want: `OTEL_EXPORTER_OTLP_ENDPOINT: endpoint "http://" has no host`},
		{name: "env signal endpoint bad scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://collector"},
			want: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint "ftp://collector" needs an http:// or https:// scheme`},
		{name: "env metrics endpoint unparsable", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://col lector:4318"},
			want: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint"},
		{name: "option signal endpoint without scheme", opts: []provider.Option{provider.WithTracesEndpoint("collector:4318/v1/traces")},
			want: `WithTracesEndpoint: endpoint "collector:4318/v1/traces" needs an http:// or https:// scheme`},
		{name: "option base endpoint with the traces path", opts: []provider.Option{provider.WithEndpoint("http://collector:4318/v1/traces")},
			want: `WithEndpoint: endpoint "http://collector:4318/v1/traces" is a base URL, to which /v1/traces is appended, yet it already ends in /v1/traces ` +
				`(want a base URL such as "http://collector:4318", or WithTracesEndpoint for a URL used as given)`},
		{name: "option base endpoint with another signal's path", opts: []provider.Option{provider.WithEndpoint("https://gateway/otlp/v1/logs/")},
			want: `(want a base URL such as "https://gateway/otlp", or WithLogsEndpoint for a URL used as given)`},
		{name: "option base endpoint with a signal path over gRPC", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			opts: []provider.Option{provider.WithEndpoint("http://collector:4317/v1/metrics")}, want: "or WithMetricsEndpoint for a URL used as given"},
		{name: "env base endpoint with a signal path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/v1/metrics"},
			want: `OTEL_EXPORTER_OTLP_ENDPOINT: endpoint "http://collector:4318/v1/metrics" is a base URL, to which /v1/metrics is appended, ` +
				`yet it already ends in /v1/metrics (want a base URL such as "http://collector:4318", or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT for a URL used as given)`},
		{name: "unknown traces exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, want: `OTEL_TRACES_EXPORTER: unknown exporter "zipkin" (want otlp, console, tree or none)`},
		{name: "unknown metrics exporter", env: map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"}, want: `OTEL_METRICS_EXPORTER: unknown exporter "prometheus" (want otlp, console or none)`},
		{name: "unknown logs exporter", env: map[string]string{"OTEL_LOGS_EXPORTER": "file"}, opts: []provider.Option{provider.WithLogs()},
			want: `OTEL_LOGS_EXPORTER: unknown exporter "file" (want otlp, console or none)`},
		{name: "none combined", env: map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"},
			want: `OTEL_TRACES_EXPORTER: "none,otlp" combines none with other exporters (want none alone, or a list of otlp, console or tree)`},
		{name: "blank exporter list", env: map[string]string{"OTEL_METRICS_EXPORTER": " , "}, want: "OTEL_METRICS_EXPORTER: no exporter named (want otlp, console or none)"},
		{name: "unknown exporter option", opts: []provider.Option{provider.WithTracesExporter("jaeger")}, want: `WithTracesExporter: unknown exporter "jaeger" (want otlp, console, tree or none)`},
		{name: "unknown propagator", env: map[string]string{"OTEL_PROPAGATORS": "tracecontext,w3c"},
			want: `OTEL_PROPAGATORS: unknown propagator "w3c" (want a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, xray or ottrace`},
		{name: "blank propagator list", env: map[string]string{"OTEL_PROPAGATORS": " , "}, want: `OTEL_PROPAGATORS: "," names no propagator (want a comma-separated list of`},
		{name: "unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"},
			want: `OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "thrift" (want http/protobuf, grpc or http/json)`},
		{name: "unknown metrics protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http"},
			want: `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: unknown protocol "http" (want http/protobuf or grpc)`},
		{name: "json metrics", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"},
			want: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol http/json is not supported for metrics (want http/protobuf or grpc)"},
		{name: "json logs", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, opts: []provider.Option{provider.WithLogs(), provider.WithMetricsExporter("none")},
			want: "OTEL_EXPORTER_OTLP_PROTOCOL: protocol http/json is not supported for logs (want http/protobuf or grpc)"},
		{name: "unknown protocol option", opts: []provider.Option{provider.WithProtocol("udp")}, want: `WithProtocol: unknown protocol "udp" (want http/protobuf, grpc or http/json)`},
		{name: "malformed resource attributes", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=payments,oops"},
			want: "OTEL_RESOURCE_ATTRIBUTES:"},
		{name: "sdk disabled not a boolean", env: map[string]string{"OTEL_SDK_DISABLED": "yes"}, want: `OTEL_SDK_DISABLED: "yes" is not a boolean (want true or false)`},
		{name: "insecure not a boolean", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_INSECURE": "1"},
			want: `OTEL_EXPORTER_OTLP_TRACES_INSECURE: "1" is not a boolean (want true or false)`},
		{name: "timeout with a unit", env: map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"},
			want: `OTEL_EXPORTER_OTLP_TIMEOUT: "10s" is not valid (want a non-negative integer)`},
		{name: "unknown compression", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "zstd"},
			want: `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: unknown compression "zstd" (want gzip or none)`},
		{name: "malformed headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key"},
			want: `OTEL_EXPORTER_OTLP_HEADERS: malformed entry "api-key" (want name=value pairs separated by commas, percent-encoded)`},
		{name: "metric interval with a unit", env: map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "1m"},
			want: `OTEL_METRIC_EXPORT_INTERVAL: "1m" is not valid (want a positive integer)`},
		{name: "empty span queue", env: map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, want: `OTEL_BSP_MAX_QUEUE_SIZE: "0" is not valid (want a positive integer)`},
		{name: "log schedule delay not a number", env: map[string]string{"OTEL_BLRP_SCHEDULE_DELAY": "soon"}, opts: []provider.Option{provider.WithLogs()},
			want: `OTEL_BLRP_SCHEDULE_DELAY: "soon" is not valid (want a positive integer)`},
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
			// Every configuration error says what would have been valid.
			if !strings.Contains(err.Error(), "(want ") && !strings.Contains(err.Error(), "outside [0, 1]") {
				t.Errorf("error %q does not list the valid values", err)
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
		{name: "explicit false and well-formed OTLP variables", env: map[string]string{"OTEL_SDK_DISABLED": "False", "OTEL_EXPORTER_OTLP_INSECURE": "true",
			"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b, x=1",
			"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100", "OTEL_BLRP_EXPORT_TIMEOUT": "0"},
			opts: []provider.Option{provider.WithLogs()}},
		{name: "signal endpoints given in full", opts: []provider.Option{provider.WithTracesEndpoint(otlptest.UnusedURL(t) + "/v1/traces"),
			provider.WithMetricsEndpoint(otlptest.UnusedURL(t) + "/v1/metrics"), provider.WithLogsEndpoint(otlptest.UnusedURL(t)), provider.WithLogs()}},
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
