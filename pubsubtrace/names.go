package pubsubtrace

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ScopeName is the instrumentation scope of the spans and metrics this
// package records.
const ScopeName = "github.com/asynctrace/asynctrace/pubsubtrace"

// system is the messaging.system value the semantic conventions give Pub/Sub.
const system = "gcp_pubsub"

// newInstrumenter applies opts for the constructor fn. extra are the span
// attributes the adapter adds before the user's options.
func newInstrumenter(fn string, opts []asynctrace.Option, extra ...attribute.KeyValue) (*messaging.Instrumenter, settings) {
	s := settings{maxPushBodyBytes: DefaultMaxPushBodyBytes}
	cfg := config.Resolve("pubsubtrace."+fn, "pubsubtrace", opts, &s)
	if len(extra) > 0 {
		cfg.SpanAttributes = append(extra[:len(extra):len(extra)], cfg.SpanAttributes...)
	}
	return messaging.New(messaging.Spec{Scope: ScopeName, System: system, Limits: carrier.PubSubLimits}, cfg), s
}

// resourceName is a Pub/Sub topic or subscription name split into the parts
// the spans need. Pub/Sub names are "projects/{project}/{collection}/{id}";
// a bare ID is accepted too, with the project unknown.
type resourceName struct {
	project string
	id      string
}

// parseResourceName splits name, a full resource name in the given
// collection ("topics", "subscriptions") or a bare ID. A name in any other
// shape is kept whole as the ID, so that nothing is lost from the telemetry.
func parseResourceName(name, collection string) resourceName {
	rest, ok := strings.CutPrefix(name, "projects/")
	if !ok {
		return resourceName{id: name}
	}
	project, rest, ok := strings.Cut(rest, "/")
	if !ok || project == "" {
		return resourceName{id: name}
	}
	id, ok := strings.CutPrefix(rest, collection+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return resourceName{id: name}
	}
	return resourceName{project: project, id: id}
}

// validSubscriptionName reports whether name is a full subscription name
// whose parts are no longer than Pub/Sub allows (project IDs up to 30
// characters, subscription IDs up to 255; generous bounds are used so that
// valid names are never refused).
func validSubscriptionName(name string) (resourceName, bool) {
	r := parseResourceName(name, "subscriptions")
	if r.project == "" || len(r.project) > 100 || len(r.id) > 255 {
		return resourceName{}, false
	}
	return r, true
}
