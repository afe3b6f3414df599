package messaging

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/config"
)

// Spec is what an adapter tells the core about itself.
type Spec struct {
	// Scope is the instrumentation scope name: the adapter's import path.
	Scope string
	// System is the adapter's default messaging.system value.
	System string
	// Limits bound what is injected into a message (broker limits).
	Limits carrier.Limits
	// Settlement is how process spans record their settlement; the zero
	// value is DefaultVocabulary.
	Settlement Vocabulary
	// SettleObserved is set by adapters that learn of a settlement only
	// after it happened (a channel closing): with settle spans on, ending a
	// process with an ack or nack then records the settle span itself.
	SettleObserved bool
}

// Instrumenter starts and ends the spans and records the metrics of one
// adapter instance. It is safe for concurrent use.
type Instrumenter struct {
	cfg       config.Shared
	system    string
	tracers   *tracerSource
	injector  carrier.Injector
	extractor carrier.Extractor
	metrics   instruments

	// common are the attributes every span and metric of this instrumenter
	// carries: messaging.system and server.address/port.
	common []attribute.KeyValue
	// settleAttrs is the process span's settlement attribute per settlement.
	settleAttrs    [settlementCount]attribute.KeyValue
	settleObserved bool

	mu           sync.RWMutex
	destinations map[Target]*Destination
	last         atomic.Pointer[Destination]
}

// googlePubSub is the messaging.system of Google Cloud Pub/Sub, whose
// client's built-in tracing writes context under prefixed keys.
const googlePubSub = "gcp_pubsub"

// TracingOff reports whether spans are skipped altogether (the no-op
// tracer provider): context still flows, but nothing needs a parent.
func (in *Instrumenter) TracingOff() bool { return in.tracers.get().off }

// New returns an Instrumenter for the adapter described by spec, with the
// settings cfg. The tracer provider and propagator cfg leaves unset are the
// globals as they are when each message is sent or processed (W3C Trace
// Context and Baggage while no global propagator is installed); the meter
// provider left unset is the global one, which delegates to whatever is
// installed later. So an adapter may be created before the service's
// provider is.
func New(spec Spec, cfg config.Shared) *Instrumenter {
	in := &Instrumenter{cfg: cfg, system: spec.System, settleObserved: spec.SettleObserved}
	in.settleAttrs = spec.Settlement.attributes()
	if cfg.System != "" {
		in.system = cfg.System
	}
	in.tracers = newTracerSource(cfg.TracerProvider, spec.Scope)
	// A nil propagator makes the carrier use the global one of the moment.
	in.injector = carrier.Injector{Propagator: cfg.Propagator, Limits: spec.Limits}
	fallback := cfg.FallbackPrefixes
	if fallback == nil && in.system != googlePubSub {
		// Only the Pub/Sub client's built-in tracing writes the prefixed
		// keys: other brokers skip the lookups for them.
		fallback = []string{}
	}
	in.extractor = carrier.Extractor{Propagator: cfg.Propagator, FallbackPrefixes: fallback}
	in.common = commonAttributes(in.system, cfg.ServerAddress, cfg.ServerPort)
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	in.metrics = newInstruments(mp, spec.Scope)
	return in
}

// System is the messaging.system value this instrumenter reports.
func (in *Instrumenter) System() string { return in.system }

// Tracer is the tracer spans are started with, for adapter-specific spans.
func (in *Instrumenter) Tracer() trace.Tracer { return in.tracers.get().tracer }

// Inject returns props with the context of ctx injected (a copy; props is
// never written), within the adapter's limits. Adapters use it for messages
// that have no send span of their own, such as a message re-published on
// the consumer's behalf.
func (in *Instrumenter) Inject(ctx context.Context, props map[string]string) map[string]string {
	return in.injector.Inject(ctx, props)
}

// Extract returns ctx with the context a producer wrote into props.
func (in *Instrumenter) Extract(ctx context.Context, props map[string]string) context.Context {
	return in.extractor.Extract(ctx, props)
}

// maxCachedDestinations bounds the destination cache so that an application
// with unbounded topic names (one per tenant, say) does not grow without
// end; destinations past the bound are computed per call.
const maxCachedDestinations = 4096

// Target names where messages go or come from, and who sends or receives
// them: everything of a span's attributes that is the same for many
// messages.
type Target struct {
	// Name is messaging.destination.name.
	Name string
	// Subscription and ConsumerGroup are "" on the producer side.
	Subscription, ConsumerGroup string
	// Partition is messaging.destination.partition.id, when known.
	Partition string
	// ClientID is messaging.client.id (a producer or consumer name), when
	// known; recorded on spans, not on metrics.
	ClientID string
}

// Destination returns the precomputed span names, start options and metric
// attribute sets for messages sent to or received from the named
// destination. subscription and consumerGroup are "" on the producer side.
// Results are cached; adapters with a fixed destination call it once.
func (in *Instrumenter) Destination(name, subscription, consumerGroup string) *Destination {
	return in.DestinationFor(Target{Name: name, Subscription: subscription, ConsumerGroup: consumerGroup})
}

// DestinationFor is Destination with every field of the target.
func (in *Instrumenter) DestinationFor(key Target) *Destination {
	// Most adapters see one destination over and over: comparing with the
	// last one is cheaper than hashing the key.
	if d := in.last.Load(); d != nil && d.key == key {
		return d
	}
	in.mu.RLock()
	d, ok := in.destinations[key]
	in.mu.RUnlock()
	if !ok {
		d = in.addDestination(key)
	}
	in.last.Store(d)
	return d
}

func (in *Instrumenter) addDestination(key Target) *Destination {
	in.mu.Lock()
	defer in.mu.Unlock()
	if d, ok := in.destinations[key]; ok {
		return d
	}
	d := newDestination(in, key)
	if len(in.destinations) < maxCachedDestinations {
		if in.destinations == nil {
			in.destinations = make(map[Target]*Destination)
		}
		in.destinations[key] = d
	}
	return d
}
