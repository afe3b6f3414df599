package provider

import (
	"math"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newSampler resolves the sampler: OTEL_TRACES_SAMPLER (with
// OTEL_TRACES_SAMPLER_ARG) wins, then WithSampler, then the parent-based
// ratio sampler built from WithSampleRatio. The SDK would read the variables
// itself, but it falls back silently on a typo; here a typo fails Start.
func newSampler(c *config) (sdktrace.Sampler, error) {
	if c.sampleRatioSet {
		if err := checkRatio("WithSampleRatio", c.sampleRatio); err != nil {
			return nil, err
		}
	}
	name, ok := lookupEnv(envSampler)
	if !ok {
		if c.sampler != nil {
			return c.sampler, nil
		}
		return sdktrace.ParentBased(rootSampler(c.sampleRatio)), nil
	}
	switch strings.ToLower(name) {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		r, err := envRatio()
		if err != nil {
			return nil, err
		}
		return sdktrace.TraceIDRatioBased(r), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		r, err := envRatio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	default:
		return nil, invalidf("%s: unknown sampler %q (want %s)", envSampler, name, oneOf("always_on", "always_off", "traceidratio",
			"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"))
	}
}

// rootSampler decides for spans without a parent. Ratio 1 uses AlwaysSample
// so that the sampler's description says what it does.
func rootSampler(ratio float64) sdktrace.Sampler {
	if ratio >= 1 {
		return sdktrace.AlwaysSample()
	}
	return sdktrace.TraceIDRatioBased(ratio)
}

// envRatio reads OTEL_TRACES_SAMPLER_ARG; unset means 1.0 as the
// specification says.
func envRatio() (float64, error) {
	v, ok := lookupEnv(envSamplerArg)
	if !ok {
		return 1, nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, invalidf("%s: %q is not a number (want a sample ratio in [0, 1], e.g. 0.25)", envSamplerArg, v)
	}
	return r, checkRatio(envSamplerArg, r)
}

func checkRatio(source string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > 1 {
		return invalidf("%s: sample ratio %v is outside [0, 1]", source, r)
	}
	return nil
}
