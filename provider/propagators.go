package provider

import (
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
)

// newPropagator resolves the propagator: OTEL_PROPAGATORS wins (names
// tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none, or any
// registered with autoprop), then WithPropagators, then W3C Trace Context and
// Baggage. Unlike autoprop.NewTextMapPropagator, which reports an unknown
// name to the global error handler and carries on, an unknown name fails.
func newPropagator(c *config) (propagation.TextMapPropagator, error) {
	v, ok := lookupEnv(envPropagators)
	if !ok {
		if c.propagator != nil {
			return c.propagator, nil
		}
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}), nil
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, invalidf("%s: %q names no propagator (want %s)", envPropagators, v, propagatorNames)
	}
	p, err := autoprop.TextMapPropagator(names...)
	if err != nil {
		// Name the culprit: autoprop's error does not always say which.
		for _, n := range names {
			if _, nerr := autoprop.TextMapPropagator(n); nerr != nil {
				return nil, invalidf("%s: unknown propagator %q (want %s)", envPropagators, n, propagatorNames)
			}
		}
		return nil, invalidf("%s: %v (want %s)", envPropagators, err, propagatorNames)
	}
	return p, nil
}

// propagatorNames lists what autoprop knows by default.
var propagatorNames = "a comma-separated list of " + oneOf("tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace") +
	", names registered with autoprop.RegisterTextMapPropagator, or none"
