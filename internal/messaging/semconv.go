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
// conventions have no attribute for it on the process span.
const SettlementKey = attribute.Key("asynctrace.message.settlement")

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

func destinationAttributes(key destinationKey) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 3)
	if key.name != "" {
		attrs = append(attrs, semconv.MessagingDestinationName(key.name))
	}
	if key.subscription != "" {
		attrs = append(attrs, semconv.MessagingDestinationSubscriptionName(key.subscription))
	}
	if key.consumerGroup != "" {
		attrs = append(attrs, semconv.MessagingConsumerGroupName(key.consumerGroup))
	}
	return attrs
}

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
