// Package config resolves the options every asynctrace adapter takes.
//
// An asynctrace.Option either changes the settings every adapter shares
// ([Shared]) or the settings of one adapter package, which keeps its own
// settings type. Package asynctrace owns the public Option type; it lends
// this package the two functions that build and open Option values
// ([Install]), so that adapter packages can offer options of their own
// without the public type naming anything internal.
package config

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Shared holds the settings every adapter understands. The zero value
// means: the global tracer and meter providers, the global propagator (or
// W3C Trace Context and Baggage while none is installed), the adapter's own
// messaging.system, process spans as children of the producer's span.
type Shared struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// System overrides the adapter's default messaging.system value.
	System string
	// SpanAttributes are added to every span.
	SpanAttributes []attribute.KeyValue
	// LinkToProducer starts process spans in the consumer's own trace with
	// a link to the producer's span, instead of as the producer's child.
	LinkToProducer bool
	ServerAddress  string
	ServerPort     int
	// RecordBodySize adds messaging.message.body.size.
	RecordBodySize bool
	// FallbackPrefixes overrides the key prefixes read when a message has
	// no plain traceparent; nil keeps the carrier's default.
	FallbackPrefixes []string
	// SettleSpans adds a CLIENT span per settlement call (ack, nack, ...).
	SettleSpans bool
	// ReceiveSpans adds a CLIENT span per pull (Receive, Next).
	ReceiveSpans bool
	// LinkAfter, when positive, links instead of parents the process span
	// of a message that waited longer than it since its publication.
	LinkAfter time.Duration
}

// Option is the content of an asynctrace.Option.
type Option struct {
	// Name is the function that made the option, as a user wrote it
	// ("pulsartrace.WithMaxUnsettled"), for misuse messages.
	Name string
	// Adapter is the package whose settings Local changes; "" for an
	// option every adapter takes.
	Adapter string
	// Shared changes the shared settings; may be nil.
	Shared func(*Shared)
	// Local is a func(*T) over the settings type T of Adapter; may be nil.
	Local any
}

var (
	wrap   func(Option) any
	unwrap func(any) (Option, bool)
)

// Install is called once by package asynctrace, while it is initialised:
// w turns an Option into an asynctrace.Option, u opens one.
func Install(w func(Option) any, u func(any) (Option, bool)) {
	wrap, unwrap = w, u
}

// New returns o as an asynctrace.Option. Adapters convert the result with
// a type assertion, which cannot fail.
func New(o Option) any { return wrap(o) }

// Resolve applies opts to a zero Shared and to local, the settings of the
// adapter package named adapter. fn is the constructor being called, for
// the panic that reports an option of another adapter: such an option is a
// mistake caught where it is made. Nil options are ignored.
func Resolve[O any, T any](fn, adapter string, opts []O, local *T) Shared {
	var s Shared
	for _, o := range opts {
		if any(o) == nil {
			continue
		}
		opt, ok := unwrap(o)
		if !ok {
			continue
		}
		if opt.Adapter != "" && opt.Adapter != adapter {
			panic(fmt.Sprintf("%s: option %s belongs to package %s and does not apply here", fn, opt.Name, opt.Adapter))
		}
		if opt.Local != nil {
			if set, ok := opt.Local.(func(*T)); ok {
				set(local)
			}
		}
		if opt.Shared != nil {
			opt.Shared(&s)
		}
	}
	return s
}
