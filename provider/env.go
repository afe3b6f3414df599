package provider

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// ErrInvalidConfig is wrapped by every error Start returns for bad
// configuration, whether it came from an option or an environment variable.
var ErrInvalidConfig = errors.New("provider: invalid configuration")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// Environment variables read here rather than by the SDK, either because the
// SDK ignores them or because Start must validate them or decide whether a
// code default may be passed without overriding the operator.
const (
	envSDKDisabled     = "OTEL_SDK_DISABLED"
	envPropagators     = "OTEL_PROPAGATORS"
	envSampler         = "OTEL_TRACES_SAMPLER"
	envSamplerArg      = "OTEL_TRACES_SAMPLER_ARG"
	envTracesExporter  = "OTEL_TRACES_EXPORTER"
	envMetricsExporter = "OTEL_METRICS_EXPORTER"
	envLogsExporter    = "OTEL_LOGS_EXPORTER"
	envMetricInterval  = "OTEL_METRIC_EXPORT_INTERVAL"
	envOTLPPrefix      = "OTEL_EXPORTER_OTLP_"
)

// Exporter names accepted in OTEL_*_EXPORTER and the With*Exporter options.
const (
	exporterOTLP    = "otlp"
	exporterConsole = "console"
	exporterNone    = "none"
)

// OTLP transport protocols.
const (
	protocolHTTPProtobuf = "http/protobuf"
	protocolHTTPJSON     = "http/json"
	protocolGRPC         = "grpc"
)

// signal names one telemetry signal in env var names and URL paths.
type signal struct {
	name  string // "traces"
	upper string // "TRACES"
	path  string // "/v1/traces"
}

var (
	signalTraces  = signal{"traces", "TRACES", "/v1/traces"}
	signalMetrics = signal{"metrics", "METRICS", "/v1/metrics"}
	signalLogs    = signal{"logs", "LOGS", "/v1/logs"}
)

// lookupEnv returns the trimmed value of key and whether it is set to
// something other than blanks; the specification treats empty as unset.
func lookupEnv(key string) (string, bool) {
	v := strings.TrimSpace(os.Getenv(key))
	return v, v != ""
}

// otlpEnv returns the first set of OTEL_EXPORTER_OTLP_<SIGNAL>_<name> and
// OTEL_EXPORTER_OTLP_<name>, the per-signal variable winning, and the name of
// the variable it came from.
func otlpEnv(sig signal, name string) (value, key string, ok bool) {
	key = envOTLPPrefix + sig.upper + "_" + name
	if v, ok := lookupEnv(key); ok {
		return v, key, true
	}
	key = envOTLPPrefix + name
	if v, ok := lookupEnv(key); ok {
		return v, key, true
	}
	return "", "", false
}

// sdkDisabled reports OTEL_SDK_DISABLED=true. As the specification says for
// boolean variables, only "true" (any case) counts; anything else is false.
func sdkDisabled() bool {
	v, _ := lookupEnv(envSDKDisabled)
	return strings.EqualFold(v, "true")
}

// exporterNames resolves the exporters for one signal: the env variable if
// set, else the code default, else OTLP. "none" yields an empty list.
func exporterNames(envKey string, code []string, option string) ([]string, error) {
	source, raw := option, code
	if v, ok := lookupEnv(envKey); ok {
		source, raw = envKey, strings.Split(v, ",")
	} else if code == nil {
		return []string{exporterOTLP}, nil
	}
	var names []string
	none := false
	for _, n := range raw {
		n = strings.ToLower(strings.TrimSpace(n))
		switch n {
		case "":
			// Tolerate stray commas such as "otlp,".
		case exporterOTLP, exporterConsole:
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		case exporterNone:
			none = true
		default:
			return nil, invalidf("%s: unknown exporter %q (want otlp, console or none)", source, n)
		}
	}
	if none && len(names) > 0 {
		return nil, invalidf("%s: %q combines none with other exporters", source, strings.Join(raw, ","))
	}
	if !none && len(names) == 0 {
		return nil, invalidf("%s: no exporter named (want otlp, console or none)", source)
	}
	return names, nil
}

// protocolFor resolves the OTLP protocol of one signal: per-signal env, then
// OTEL_EXPORTER_OTLP_PROTOCOL, then the code default, then http/protobuf.
func protocolFor(sig signal, code string) (string, error) {
	source, p := "WithProtocol", code
	if v, key, ok := otlpEnv(sig, "PROTOCOL"); ok {
		source, p = key, v
	}
	switch p = strings.ToLower(strings.TrimSpace(p)); p {
	case "", protocolHTTPProtobuf:
		return protocolHTTPProtobuf, nil
	case protocolGRPC:
		return protocolGRPC, nil
	case protocolHTTPJSON:
		if sig == signalTraces {
			return protocolHTTPJSON, nil
		}
		return "", invalidf("%s: protocol http/json is not supported for %s (use http/protobuf or grpc)", source, sig.name)
	default:
		return "", invalidf("%s: unknown protocol %q (want http/protobuf, grpc or http/json)", source, p)
	}
}

// otlpTarget is where one signal's OTLP exporter sends, as far as Start
// has to decide it.
type otlpTarget struct {
	protocol string
	// codeEndpoint is the WithEndpoint URL to pass to the exporter, or ""
	// when the environment sets the endpoint (the exporter reads it itself)
	// or no endpoint was configured (the exporter's default applies).
	codeEndpoint string
	// codeInsecure and codeHeaders are passed only when the environment
	// leaves them unset, for the same reason.
	codeInsecure bool
	codeHeaders  map[string]string
}

// resolveOTLP validates the endpoint settings of one signal and works out
// which code defaults may be passed to its exporter without overriding the
// environment, which the exporters read first and code options then replace.
func resolveOTLP(sig signal, c *config) (otlpTarget, error) {
	var t otlpTarget
	proto, err := protocolFor(sig, c.protocol)
	if err != nil {
		return t, err
	}
	t.protocol = proto
	if c.endpoint != "" {
		if err := checkEndpoint("WithEndpoint", c.endpoint); err != nil {
			return t, err
		}
	}
	envEndpoint := false
	for _, key := range []string{envOTLPPrefix + "ENDPOINT", envOTLPPrefix + sig.upper + "_ENDPOINT"} {
		if v, ok := lookupEnv(key); ok {
			if err := checkEndpoint(key, v); err != nil {
				return t, err
			}
			envEndpoint = true
		}
	}
	if !envEndpoint && c.endpoint != "" {
		t.codeEndpoint = c.endpoint
		if proto != protocolGRPC {
			t.codeEndpoint = strings.TrimRight(c.endpoint, "/") + sig.path
		}
	}
	if _, _, set := otlpEnv(sig, "INSECURE"); !set && !envEndpoint && c.endpoint == "" {
		t.codeInsecure = c.insecure
	}
	if _, _, set := otlpEnv(sig, "HEADERS"); !set && len(c.headers) > 0 {
		t.codeHeaders = c.headers
	}
	return t, nil
}

// checkEndpoint rejects what the exporters would otherwise drop with only a
// logged error, falling back to localhost and losing every span.
func checkEndpoint(source, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("%s: endpoint %q is not a URL: %v", source, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalidf("%s: endpoint %q needs an http:// or https:// scheme", source, raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalidf("%s: endpoint %q has no host", source, raw)
	}
	return nil
}
