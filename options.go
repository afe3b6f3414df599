package asynctrace

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Version is the version of asynctrace, reported as the instrumentation scope
// version of its tracers and meters.
const Version = messaging.Version

// Option configures an asynctrace adapter: pulsartrace, watermilltrace,
// pubsubtrace and httptrace all take it. The options of this package apply
// to every adapter (an option with no meaning for one, such as
// WithLinkToProducer for a producer, is ignored there); each adapter package
// adds options of its own, which only its constructors accept. A nil Option
// is ignored.
type Option interface {
	option() config.Option
}

type option config.Option

func (o option) option() config.Option { return config.Option(o) }

func init() {
	config.Install(
		func(o config.Option) any { return option(o) },
		func(v any) (config.Option, bool) {
			o, ok := v.(Option)
			if !ok || o == nil {
				return config.Option{}, false
			}
			return o.option(), true
		},
	)
}

func shared(name string, f func(*config.Shared)) Option {
	return option{Name: "asynctrace." + name, Shared: f}
}

// WithTracerProvider sets the tracer provider spans are created with.
// The default is the global one (otel.GetTracerProvider), looked up for
// every message, so an adapter may be created before the provider is
// installed.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return shared("WithTracerProvider", func(c *config.Shared) { c.TracerProvider = tp })
}

// WithMeterProvider sets the meter provider the messaging (or HTTP)
// metrics are recorded with. The default is the global one
// (otel.GetMeterProvider); with no meter provider installed, recording
// costs nothing.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return shared("WithMeterProvider", func(c *config.Shared) { c.MeterProvider = mp })
}

// WithPropagators sets the propagator that writes context into messages
// and requests and reads it back. The default is the global propagator
// (otel.GetTextMapPropagator) once one is installed; until then, W3C Trace
// Context and W3C Baggage, so that a service which set up only a tracer
// provider still continues its callers' traces. A propagator given here or
// installed globally always wins over that default.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return shared("WithPropagators", func(c *config.Shared) { c.Propagator = p })
}

// WithSpanAttributes adds attributes to every span the adapter starts.
func WithSpanAttributes(attrs ...attribute.KeyValue) Option {
	attrs = append([]attribute.KeyValue(nil), attrs...)
	return shared("WithSpanAttributes", func(c *config.Shared) { c.SpanAttributes = append(c.SpanAttributes, attrs...) })
}

// WithLinkToProducer makes each process span start in the consumer's own
// trace (a child of the consumer's current span, or a new root) with a link
// to the producer's span, instead of continuing the producer's trace as its
// child. Use it where one trace per consumer batch or per consumer service
// is wanted; the default keeps one unbroken trace.
func WithLinkToProducer() Option {
	return shared("WithLinkToProducer", func(c *config.Shared) { c.LinkToProducer = true })
}

// WithMessagingSystem overrides the messaging.system attribute, for example
// to name the broker behind a Watermill publisher ("redis", "rabbitmq",
// "nats", "kafka"). It panics if system is empty.
func WithMessagingSystem(system string) Option {
	if system == "" {
		panic("asynctrace.WithMessagingSystem: system is empty")
	}
	return shared("WithMessagingSystem", func(c *config.Shared) { c.System = system })
}

// WithServerAddress sets server.address (and server.port, when port > 0) on
// every messaging span and metric. It panics if host is empty or port is
// negative or above 65535.
func WithServerAddress(host string, port int) Option {
	if host == "" {
		panic("asynctrace.WithServerAddress: host is empty")
	}
	if port < 0 || port > 65535 {
		panic(fmt.Sprintf("asynctrace.WithServerAddress: port must be 0 (none) to 65535, got %d", port))
	}
	return shared("WithServerAddress", func(c *config.Shared) { c.ServerAddress, c.ServerPort = host, port })
}

// WithMessageBodySize records messaging.message.body.size, the payload size
// in bytes, on every messaging span. It is opt-in in the semantic
// conventions.
func WithMessageBodySize() Option {
	return shared("WithMessageBodySize", func(c *config.Shared) { c.RecordBodySize = true })
}

// WithFallbackKeyPrefixes sets the key prefixes tried when a received
// message has no plain traceparent. For Pub/Sub (pubsubtrace, or another
// adapter with WithMessagingSystem("gcp_pubsub")) the default is
// "googclient_", so that messages from the Pub/Sub client's built-in tracing
// are continued; for the other brokers it is none. Call it with no prefixes
// to read plain keys only.
func WithFallbackKeyPrefixes(prefixes ...string) Option {
	prefixes = append([]string{}, prefixes...)
	return shared("WithFallbackKeyPrefixes", func(c *config.Shared) { c.FallbackPrefixes = prefixes })
}

// WithSettleSpans adds a CLIENT span for every settlement the adapter sees
// (ack, nack, cumulative ack, reconsume later; in Watermill, the Ack or Nack
// of a message from watermilltrace.WrapSubscriber), named after the
// settlement and the destination ("ack orders"), with
// messaging.operation.type "settle". It is a child of the message's process
// span and links to the producer's span, as the messaging conventions
// describe. Off by default: the process span already records the outcome.
func WithSettleSpans() Option {
	return shared("WithSettleSpans", func(c *config.Shared) { c.SettleSpans = true })
}

// WithReceiveSpans adds a CLIENT span "receive <destination>" for every
// message an application pulls (pulsartrace's Receive and Handle, a
// reader's Next), covering the wait, a child of the caller's span with a
// link to the producer's span. The message's process span then links to the
// receive span and stays the producer's child; when the message carries no
// trace context, or the process span starts in the consumer's own trace
// (WithLinkToProducer, WithLinkAfter), the receive span is its parent. Off
// by default.
func WithReceiveSpans() Option {
	return shared("WithReceiveSpans", func(c *config.Shared) { c.ReceiveSpans = true })
}

// WithLinkAfter starts the process span of a message that waited longer
// than d between its publication and its processing in the consumer's own
// trace (a child of the consumer's current span, or a new root) with a link
// to the producer's span, as WithLinkToProducer does for every message, and
// records the wait in seconds as asynctrace.message.wait. A trace then does
// not stretch over hours or days because of one delayed message. Quicker
// messages stay children of the producer's span. It applies where the
// publish time is known: Pulsar and Pub/Sub messages (Watermill has no
// reliable one, so there it has no effect). It panics if d is not positive.
func WithLinkAfter(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("asynctrace.WithLinkAfter: d must be positive, got %v", d))
	}
	return shared("WithLinkAfter", func(c *config.Shared) { c.LinkAfter = d })
}
