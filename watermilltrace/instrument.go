package watermilltrace

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ScopeName is the instrumentation scope of the spans and metrics this
// package records.
const ScopeName = "github.com/asynctrace/asynctrace/watermilltrace"

// DefaultMessagingSystem is the messaging.system value reported unless
// asynctrace.WithMessagingSystem names the broker behind the Watermill
// publisher or subscriber. The semantic conventions list no value for
// Watermill, which is a library over many brokers rather than a broker;
// "watermill" says what the instrumentation can see for sure.
const DefaultMessagingSystem = "watermill"

// HandlerNameKey is the attribute holding the name of the Watermill router
// handler that processed a message. The messaging conventions have no
// attribute for it.
const HandlerNameKey = attribute.Key("watermill.handler.name")

// DefaultMaxUnsettled is how many delivered messages a subscription from
// [WrapSubscriber] watches for their Ack or Nack at once, unless
// [WithMaxUnsettled] says otherwise.
const DefaultMaxUnsettled = 1024

// settings are the options of this package's own.
type settings struct {
	maxUnsettled  int
	limits        *carrier.Limits
	consumerGroup string
}

// newInstrumenter applies opts for the constructor fn.
func newInstrumenter(fn string, opts []asynctrace.Option) (*messaging.Instrumenter, settings) {
	s := settings{maxUnsettled: DefaultMaxUnsettled}
	cfg := config.Resolve("watermilltrace."+fn, "watermilltrace", opts, &s)
	limits := limitsFor(cfg.System)
	if s.limits != nil {
		limits = *s.limits
	}
	spec := messaging.Spec{Scope: ScopeName, System: DefaultMessagingSystem, Limits: limits}
	// A wrapped subscriber learns of an Ack or Nack only once it happened:
	// the core then marks it with a settle span of its own.
	spec.SettleObserved = fn == "WrapSubscriber"
	return messaging.New(spec, cfg), s
}

// watermillHeaderReserve is what the Pub/Subs of Watermill add to a message
// beside its metadata, as the broker counts it: the header holding the
// message's UUID ("_watermill_message_uuid", 23 bytes, and a UUID, 36 bytes
// when made by watermill.NewUUID) with its framing. It is taken from the
// limits of every broker, generously so that longer UUIDs fit too.
const watermillHeaderReserve = 128

// limitsFor returns the limits of the broker a messaging.system value
// names, less what Watermill adds to every message; none for a system with
// no limit trace context could reach, or one this package does not know.
func limitsFor(system string) carrier.Limits {
	var l carrier.Limits
	switch system {
	case "nats":
		l = carrier.NATSLimits
	case "rabbitmq":
		l = carrier.AMQPLimits
	case "kafka":
		l = carrier.KafkaLimits
	case "gcp_pubsub":
		return carrier.PubSubLimits
	case "pulsar":
		l = carrier.PulsarLimits
	default:
		return l
	}
	if l.MaxTotalBytes > 0 {
		l.MaxTotalBytes -= watermillHeaderReserve
	}
	if l.MaxMessageBytes > 0 {
		l.MaxMessageBytes -= watermillHeaderReserve
	}
	return l
}

// WithMetadataLimits bounds what a publisher of this package writes into a
// message's metadata, in place of the limits it derives from
// asynctrace.WithMessagingSystem. Trace context that does not fit is left
// out and reported through otel.Handle as a *carrier.LimitError; the
// message is published without it. Use it for a broker configured with
// other limits than its defaults, or one this package does not know.
// Watermill's own additions to a message (its UUID header) are not counted
// for you: leave room for them. It panics if a field of l is negative.
func WithMetadataLimits(l carrier.Limits) asynctrace.Option {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxEntries", l.MaxEntries}, {"MaxKeyBytes", l.MaxKeyBytes}, {"MaxValueBytes", l.MaxValueBytes},
		{"MaxTotalBytes", l.MaxTotalBytes}, {"MaxMessageBytes", l.MaxMessageBytes}, {"EntryOverheadBytes", l.EntryOverheadBytes},
	} {
		if f.v < 0 {
			panic(fmt.Sprintf("watermilltrace.WithMetadataLimits: %s must not be negative, got %d", f.name, f.v))
		}
	}
	return config.New(config.Option{
		Name:    "watermilltrace.WithMetadataLimits",
		Adapter: "watermilltrace",
		Local:   func(s *settings) { s.limits = &l },
	}).(asynctrace.Option)
}

// WithConsumerGroup records messaging.consumer.group.name on the process
// spans and metrics of [WrapSubscriber] and [NewMiddleware]: the consumer
// group (Kafka, Redis Streams), durable consumer (NATS JetStream) or queue
// (RabbitMQ) the backend subscriber was configured with, which a
// message.Subscriber does not reveal. It panics if group is empty.
func WithConsumerGroup(group string) asynctrace.Option {
	if group == "" {
		panic("watermilltrace.WithConsumerGroup: group is empty")
	}
	return config.New(config.Option{
		Name:    "watermilltrace.WithConsumerGroup",
		Adapter: "watermilltrace",
		Local:   func(s *settings) { s.consumerGroup = group },
	}).(asynctrace.Option)
}

// WithMaxUnsettled bounds how many delivered messages a subscription from
// [WrapSubscriber] watches for their Ack or Nack at once (default
// [DefaultMaxUnsettled]). Past n, the span of the oldest unsettled message
// is ended as abandoned and the message is no longer watched; it is still
// acked or nacked as the consumer decides. It panics if n is less than 1.
func WithMaxUnsettled(n int) asynctrace.Option {
	if n < 1 {
		panic(fmt.Sprintf("watermilltrace.WithMaxUnsettled: n must be at least 1, got %d", n))
	}
	return config.New(config.Option{
		Name:    "watermilltrace.WithMaxUnsettled",
		Adapter: "watermilltrace",
		Local:   func(s *settings) { s.maxUnsettled = n },
	}).(asynctrace.Option)
}
