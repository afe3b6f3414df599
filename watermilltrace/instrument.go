package watermilltrace

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/asynctrace/asynctrace"
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

func newInstrumenter(opts []asynctrace.Option) *messaging.Instrumenter {
	return messaging.New(messaging.Spec{Scope: ScopeName, System: DefaultMessagingSystem}, opts...)
}
