package messaging

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// This file is the one place that names the semantic-convention attributes
// of messaging spans and metrics.

// Operation names, as used in span names and messaging.operation.name.
const (
	opSend    = "send"
	opReceive = "receive"
	opProcess = "process"
)

// SettlementKey records how a processed message was settled. The messaging
// conventions have no attribute for it on the process span; adapters whose
// broker has a key of its own use that one instead (see Vocabulary).
const SettlementKey = attribute.Key("asynctrace.message.settlement")

// WaitKey records, with the link-after option, how long a message waited
// between its publication and the start of its processing, in seconds.
const WaitKey = attribute.Key("asynctrace.message.wait")

// Attributes of Pulsar that the conventions do not define; the Pulsar
// adapter exports them under its own names.
const (
	// PulsarAcknowledgmentTypeKey is the key the Pulsar Java client's
	// tracing records the settlement under.
	PulsarAcknowledgmentTypeKey = attribute.Key("messaging.pulsar.acknowledgment.type")
	// PulsarRedeliveryCountKey is the broker's redelivery count.
	PulsarRedeliveryCountKey = attribute.Key("messaging.pulsar.message.redelivery_count")
	// PulsarReconsumeTimesKey is how often a message went through the
	// retry topic.
	PulsarReconsumeTimesKey = attribute.Key("messaging.pulsar.message.reconsume_times")
)

func commonAttributes(system, serverAddress string, serverPort int) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.MessagingSystemKey.String(system)}
	if serverAddress != "" {
		attrs = append(attrs, semconv.ServerAddress(serverAddress))
		if serverPort > 0 {
			attrs = append(attrs, semconv.ServerPort(serverPort))
		}
	}
	return attrs
}

func operationAttributes(opType attribute.KeyValue, opName string) []attribute.KeyValue {
	return []attribute.KeyValue{opType, semconv.MessagingOperationName(opName)}
}

// destinationAttributes are the attributes of spans and metrics alike.
func destinationAttributes(t Target) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4)
	if t.Name != "" {
		attrs = append(attrs, semconv.MessagingDestinationName(t.Name))
	}
	if t.Subscription != "" {
		attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(t.Subscription))
	}
	if t.ConsumerGroup != "" {
		attrs = append(attrs, semconv.MessagingConsumerGroupName(t.ConsumerGroup))
	}
	if t.Partition != "" {
		attrs = append(attrs, semconv.MessagingDestinationPartitionID(t.Partition))
	}
	return attrs
}

// clientAttributes are the attributes of spans only: a client id would
// multiply the metric streams by the number of clients.
func clientAttributes(t Target) []attribute.KeyValue {
	if t.ClientID == "" {
		return nil
	}
	return []attribute.KeyValue{semconv.MessagingClientID(t.ClientID)}
}

func batchCountAttribute(n int) attribute.KeyValue { return semconv.MessagingBatchMessageCount(n) }

func waitAttribute(seconds float64) attribute.KeyValue { return WaitKey.Float64(seconds) }

var (
	sendOperation    = operationAttributes(semconv.MessagingOperationTypeSend, opSend)
	receiveOperation = operationAttributes(semconv.MessagingOperationTypeReceive, opReceive)
	processOperation = operationAttributes(semconv.MessagingOperationTypeProcess, opProcess)
)

func settleOperation(s Settlement) []attribute.KeyValue {
	return operationAttributes(semconv.MessagingOperationTypeSettle, s.String())
}

func messageIDAttribute(id string) attribute.KeyValue { return semconv.MessagingMessageID(id) }

func bodySizeAttribute(n int) attribute.KeyValue { return semconv.MessagingMessageBodySize(n) }

func errorTypeAttribute(err error) attribute.KeyValue { return semconv.ErrorType(err) }

func concat(parts ...[]attribute.KeyValue) []attribute.KeyValue {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]attribute.KeyValue, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
