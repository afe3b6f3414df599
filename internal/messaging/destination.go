package messaging

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Destination holds what is the same for every message of one destination:
// span names, span start options and metric attribute sets. Computing them
// once keeps the per-message path free of allocations when tracing is off.
type Destination struct {
	key  Target
	name string

	sendName     string
	processName  string
	receiveName  string
	sendStart    []trace.SpanStartOption
	processStart []trace.SpanStartOption
	receiveStart []trace.SpanStartOption
	settleName   [settlementCount]string
	settleStart  [settlementCount][]trace.SpanStartOption

	// Metric options holding the attribute sets of successful operations,
	// built once because turning a set into an option allocates.
	send, receive, process, consume measurement
	settle                          [settlementCount]measurement

	sendAttrs, receiveAttrs, processAttrs, consumeAttrs []attribute.KeyValue
}

// Name is the destination name as the adapter gave it.
func (d *Destination) Name() string { return d.name }

func newDestination(in *Instrumenter, key Target) *Destination {
	dest := destinationAttributes(key)
	client := clientAttributes(key)
	d := &Destination{
		key:         key,
		name:        key.Name,
		sendName:    spanName(opSend, key.Name),
		processName: spanName(opProcess, key.Name),
		receiveName: spanName(opReceive, key.Name),
	}
	d.sendAttrs = concat(in.common, dest, sendOperation)
	d.receiveAttrs = concat(in.common, dest, receiveOperation)
	d.processAttrs = concat(in.common, dest, processOperation)
	// messaging.client.consumed.messages names the operation but has no
	// messaging.operation.type.
	d.consumeAttrs = concat(in.common, dest, processOperation[1:])

	d.sendStart = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(concat(d.sendAttrs, client, in.cfg.SpanAttributes)...),
	}
	d.processStart = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(concat(d.processAttrs, client, in.cfg.SpanAttributes)...),
	}
	if in.cfg.ReceiveSpans {
		d.receiveStart = []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(concat(d.receiveAttrs, client, in.cfg.SpanAttributes)...),
		}
	}
	if in.cfg.SettleSpans {
		for s := range settlementCount {
			d.settleName[s] = spanName(Settlement(s).String(), key.Name)
			d.settleStart[s] = []trace.SpanStartOption{
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(concat(in.common, dest, settleOperation(Settlement(s)), client, in.cfg.SpanAttributes)...),
			}
		}
	}

	d.send = newMeasurement(d.sendAttrs)
	d.receive = newMeasurement(d.receiveAttrs)
	d.process = newMeasurement(d.processAttrs)
	d.consume = newMeasurement(d.consumeAttrs)
	for s := range settlementCount {
		d.settle[s] = newMeasurement(concat(in.common, dest, settleOperation(Settlement(s))))
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

// measurement is the attributes of one kind of operation on one
// destination, ready to record.
type measurement struct {
	attrs  []attribute.KeyValue
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasurement(attrs []attribute.KeyValue) measurement {
	opt := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return measurement{attrs: attrs, add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}}
}

// outcome returns m, or for a failure m plus error.type; the failure variant
// is built per call, which only failures pay for.
func (m *measurement) outcome(err error) *measurement {
	if err == nil {
		return m
	}
	f := newMeasurement(append(m.attrs[:len(m.attrs):len(m.attrs)], errorTypeAttribute(err)))
	return &f
}
