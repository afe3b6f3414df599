package messaging

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Destination holds what is the same for every message of one destination:
// span names, span start options and metric attribute sets. Computing them
// once keeps the per-message path free of allocations when tracing is off.
type Destination struct {
	name string

	sendName     string
	processName  string
	sendStart    []trace.SpanStartOption
	processStart []trace.SpanStartOption

	sendSet    attribute.Set
	receiveSet attribute.Set
	processSet attribute.Set
	consumeSet attribute.Set
	settleSets [settlementCount]attribute.Set

	// Kept to derive the error variants of the sets above.
	sendAttrs, receiveAttrs, processAttrs, consumeAttrs []attribute.KeyValue
}

// Name is the destination name as the adapter gave it.
func (d *Destination) Name() string { return d.name }

func newDestination(in *Instrumenter, key destinationKey) *Destination {
	dest := destinationAttributes(key)
	d := &Destination{
		name:        key.name,
		sendName:    spanName(opSend, key.name),
		processName: spanName(opProcess, key.name),
	}
	d.sendAttrs = concat(in.common, dest, sendOperation)
	d.receiveAttrs = concat(in.common, dest, receiveOperation)
	d.processAttrs = concat(in.common, dest, processOperation)
	// messaging.client.consumed.messages names the operation but has no
	// messaging.operation.type.
	d.consumeAttrs = concat(in.common, dest, processOperation[1:])

	d.sendStart = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(concat(d.sendAttrs, in.cfg.SpanAttributes)...),
	}
	d.processStart = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(concat(d.processAttrs, in.cfg.SpanAttributes)...),
	}

	d.sendSet = attribute.NewSet(d.sendAttrs...)
	d.receiveSet = attribute.NewSet(d.receiveAttrs...)
	d.processSet = attribute.NewSet(d.processAttrs...)
	d.consumeSet = attribute.NewSet(d.consumeAttrs...)
	for s := range settlementCount {
		d.settleSets[s] = attribute.NewSet(concat(in.common, dest, settleOperation(Settlement(s)))...)
	}
	return d
}

// spanName follows the conventions' "{operation} {destination}"; without a
// destination name the operation alone is the name.
func spanName(op, destination string) string {
	if destination == "" {
		return op
	}
	return op + " " + destination
}

// withError returns set's attributes plus error.type for err; it allocates,
// which only failures pay for.
func withError(attrs []attribute.KeyValue, err error) attribute.Set {
	return attribute.NewSet(append(attrs[:len(attrs):len(attrs)], errorTypeAttribute(err))...)
}
