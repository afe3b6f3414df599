package watermilltrace

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/asynctrace/asynctrace"
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
	consumerGroup string
}

// newInstrumenter applies opts for the constructor fn.
func newInstrumenter(fn string, opts []asynctrace.Option) (*messaging.Instrumenter, settings) {
	s := settings{maxUnsettled: DefaultMaxUnsettled}
	cfg := config.Resolve("watermilltrace."+fn, "watermilltrace", opts, &s)
	spec := messaging.Spec{Scope: ScopeName, System: DefaultMessagingSystem}
	// A wrapped subscriber learns of an Ack or Nack only once it happened:
	// the core then marks it with a settle span of its own.
	spec.SettleObserved = fn == "WrapSubscriber"
	return messaging.New(spec, cfg), s
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
