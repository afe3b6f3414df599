package provider

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
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
	envMetricTimeout   = "OTEL_METRIC_EXPORT_TIMEOUT"
	envOTLPPrefix      = "OTEL_EXPORTER_OTLP_"
)

// Exporter names accepted in OTEL_*_EXPORTER and the With*Exporter options.
const (
	exporterOTLP    = "otlp"
	exporterConsole = "console"
	// exporterTree prints each finished trace as a compact tree: the
	// OpenTelemetry specification keeps "console" for its own format.
	exporterTree = "tree"
	exporterNone = "none"
)

// OTLP transport protocols.
const (
	protocolHTTPProtobuf = "http/protobuf"
	protocolHTTPJSON     = "http/json"
	protocolGRPC         = "grpc"
)

// signal names one telemetry signal in env var names, URL paths and
// options.
type signal struct {
	name   string // "traces"
	upper  string // "TRACES"
	path   string // "/v1/traces"
	option string // "WithTracesEndpoint"
}

var (
	signalTraces  = signal{"traces", "TRACES", "/v1/traces", "WithTracesEndpoint"}
	signalMetrics = signal{"metrics", "METRICS", "/v1/metrics", "WithMetricsEndpoint"}
	signalLogs    = signal{"logs", "LOGS", "/v1/logs", "WithLogsEndpoint"}
	allSignals    = []signal{signalTraces, signalMetrics, signalLogs}
)

// oneOf lists valid values for an error message: "a, b or c".
func oneOf(values ...string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

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

// sdkDisabled reports OTEL_SDK_DISABLED=true. The specification reads
// anything but "true" as false; a value that is neither true nor false is
// rejected here instead, as it is more likely a typo than a wish to export.
func sdkDisabled() (bool, error) {
	return envBool(envSDKDisabled)
}

// envBool reads a boolean variable: true or false in any case, unset or
// blank meaning false.
func envBool(key string) (bool, error) {
	v, ok := lookupEnv(key)
	switch {
	case !ok || strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	default:
		return false, invalidf("%s: %q is not a boolean (want true or false)", key, v)
	}
}

// envInt reads a variable holding a whole number of at least least, for
// example milliseconds.
func envInt(key string, least int) (int, bool, error) {
	v, ok := lookupEnv(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		want := "a positive integer"
		if least == 0 {
			want = "a non-negative integer"
		}
		return 0, false, invalidf("%s: %q is not valid (want %s)", key, v, want)
	}
	return n, true, nil
}

// exporterNames resolves the exporters for one signal: the env variable if
// set, else the code default, else OTLP. "none" yields an empty list. known
// are the names the signal's registry holds.
func exporterNames(envKey string, code []string, option string, known []string) ([]string, error) {
	source, raw := option, code
	if v, ok := lookupEnv(envKey); ok {
		source, raw = envKey, strings.Split(v, ",")
	} else if code == nil {
		return []string{exporterOTLP}, nil
	}
	valid := oneOf(append(slices.Clone(known), exporterNone)...)
	var names []string
	none := false
	for _, n := range raw {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == "":
			// Tolerate stray commas such as "otlp,".
		case n == exporterNone:
			none = true
		case slices.Contains(known, n):
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		default:
			return nil, invalidf("%s: unknown exporter %q (want %s)", source, n, valid)
		}
	}
	if none && len(names) > 0 {
		return nil, invalidf("%s: %q combines none with other exporters (want none alone, or a list of %s)",
			source, strings.Join(raw, ","), oneOf(known...))
	}
	if !none && len(names) == 0 {
		return nil, invalidf("%s: no exporter named (want %s)", source, valid)
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
		return "", invalidf("%s: protocol http/json is not supported for %s (want http/protobuf or grpc)", source, sig.name)
	default:
		want := oneOf(protocolHTTPProtobuf, protocolGRPC, protocolHTTPJSON)
		if sig != signalTraces {
			want = oneOf(protocolHTTPProtobuf, protocolGRPC)
		}
		return "", invalidf("%s: unknown protocol %q (want %s)", source, p, want)
	}
}

// otlpTarget is where one signal's OTLP exporter sends, as far as Start
// has to decide it.
type otlpTarget struct {
	protocol string
	// codeEndpoint is the URL from the options to pass to the exporter, or
	// "" when the environment sets the endpoint (the exporter reads it
	// itself) or no endpoint was configured (the exporter's default
	// applies).
	codeEndpoint string
	// codeInsecure and codeHeaders are passed only when the environment
	// leaves them unset, for the same reason.
	codeInsecure bool
	codeHeaders  map[string]string
}

// resolveOTLP validates the OTLP settings of one signal and works out which
// code defaults may be passed to its exporter without overriding the
// environment, which the exporters read first and code options then replace.
//
// Endpoints follow the OTLP exporter specification: OTEL_EXPORTER_OTLP_ENDPOINT
// and WithEndpoint are base URLs to which the exporter appends the signal's
// path; the per-signal variable and option are used as given. Any endpoint
// variable for the signal wins over both options.
func resolveOTLP(sig signal, c *config) (otlpTarget, error) {
	var t otlpTarget
	proto, err := protocolFor(sig, c.protocol)
	if err != nil {
		return t, err
	}
	t.protocol = proto
	if c.endpoint != "" {
		if err := checkEndpoint("WithEndpoint", c.endpoint, baseHint("WithEndpoint")); err != nil {
			return t, err
		}
	}
	signalURL := c.signalEndpoints[sig.name]
	if signalURL != "" {
		if err := checkEndpoint(sig.option, signalURL, nil); err != nil {
			return t, err
		}
	}
	envEndpoint := false
	if v, ok := lookupEnv(envOTLPPrefix + "ENDPOINT"); ok {
		if err := checkEndpoint(envOTLPPrefix+"ENDPOINT", v, baseHint("")); err != nil {
			return t, err
		}
		envEndpoint = true
	}
	signalKey := envOTLPPrefix + sig.upper + "_ENDPOINT"
	if v, ok := lookupEnv(signalKey); ok {
		if err := checkEndpoint(signalKey, v, nil); err != nil {
			return t, err
		}
		envEndpoint = true
	}
	if !envEndpoint {
		switch {
		case signalURL != "":
			t.codeEndpoint = signalURL
		case c.endpoint != "" && proto == protocolGRPC:
			t.codeEndpoint = c.endpoint
		case c.endpoint != "":
			t.codeEndpoint = strings.TrimRight(c.endpoint, "/") + sig.path
		}
	}
	if err := checkOTLPEnv(sig); err != nil {
		return t, err
	}
	if _, _, set := otlpEnv(sig, "INSECURE"); !set && !envEndpoint && t.codeEndpoint == "" {
		t.codeInsecure = c.insecure
	}
	if _, _, set := otlpEnv(sig, "HEADERS"); !set && len(c.headers) > 0 {
		t.codeHeaders = c.headers
	}
	return t, nil
}

// checkOTLPEnv rejects malformed OTLP variables that the exporters would
// otherwise ignore, each with a log line at most.
func checkOTLPEnv(sig signal) error {
	for _, prefix := range []string{envOTLPPrefix, envOTLPPrefix + sig.upper + "_"} {
		if _, err := envBool(prefix + "INSECURE"); err != nil {
			return err
		}
		if _, _, err := envInt(prefix+"TIMEOUT", 0); err != nil {
			return err
		}
		if v, ok := lookupEnv(prefix + "COMPRESSION"); ok && v != "gzip" && v != "none" {
			return invalidf("%s: unknown compression %q (want gzip or none)", prefix+"COMPRESSION", v)
		}
		if v, ok := lookupEnv(prefix + "HEADERS"); ok {
			if err := checkHeaders(prefix+"HEADERS", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkHeaders checks the key=value,key=value form of the headers
// variables, whose malformed entries the exporters silently skip.
func checkHeaders(key, v string) error {
	for _, kv := range strings.Split(v, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		_, errName := url.PathUnescape(name)
		_, errValue := url.PathUnescape(strings.TrimSpace(value))
		if !ok || name == "" || errName != nil || errValue != nil {
			return invalidf("%s: malformed entry %q (want name=value pairs separated by commas, percent-encoded)", key, kv)
		}
	}
	return nil
}

// baseHint returns the check that a base URL (WithEndpoint or
// OTEL_EXPORTER_OTLP_ENDPOINT, option "" for the latter) does not already
// end in a signal path, which would then be appended a second time.
func baseHint(option string) func(u *url.URL) error {
	return func(u *url.URL) error {
		p := strings.TrimRight(u.Path, "/")
		for _, s := range allSignals {
			if !strings.HasSuffix(p, s.path) {
				continue
			}
			base := *u
			base.Path = strings.TrimSuffix(p, s.path)
			base.RawPath = ""
			source, instead := option, s.option
			if option == "" {
				source, instead = envOTLPPrefix+"ENDPOINT", envOTLPPrefix+s.upper+"_ENDPOINT"
			}
			return invalidf("%s: endpoint %q is a base URL, to which %s is appended, yet it already ends in %s "+
				"(want a base URL such as %q, or %s for a URL used as given)",
				source, u.String(), s.path, s.path, base.String(), instead)
		}
		return nil
	}
}

// checkEndpoint rejects what the exporters would otherwise drop with only a
// logged error, falling back to localhost and losing every span. extra, if
// not nil, checks the parsed URL further.
func checkEndpoint(source, raw string, extra func(*url.URL) error) error {
	const want = "want http://host:port or https://host:port, optionally with a path, e.g. http://otel-collector:4318"
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("%s: endpoint %q is not a URL: %v (%s)", source, raw, err, want)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalidf("%s: endpoint %q needs an http:// or https:// scheme (%s)", source, raw, want)
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalidf("%s: endpoint %q has no host (%s)", source, raw, want)
	}
	if extra != nil {
		return extra(u)
	}
	return nil
}
