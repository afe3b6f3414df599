package pubsubtrace

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ProjectIDKey records the Google Cloud project of the topic or
// subscription. The semantic conventions have no span attribute for it; the
// key is the one the Pub/Sub client's built-in tracing writes, so that
// spans from both can be queried alike.
const ProjectIDKey = attribute.Key("gcp.project_id")

// projectAttributes adds the project to every span of an instrumenter with a
// fixed topic or subscription; an unknown project adds nothing.
func projectAttributes(project string) []attribute.KeyValue {
	if project == "" {
		return nil
	}
	return []attribute.KeyValue{ProjectIDKey.String(project)}
}

// setMessageAttributes records what Pub/Sub adds to a message beyond the
// core's attributes. Callers check span.IsRecording first.
func setMessageAttributes(span trace.Span, orderingKey string, deliveryAttempt int) {
	switch {
	case orderingKey != "" && deliveryAttempt > 0:
		span.SetAttributes(
			semconv.MessagingGCPPubSubMessageOrderingKey(orderingKey),
			semconv.MessagingGCPPubSubMessageDeliveryAttempt(deliveryAttempt),
		)
	case orderingKey != "":
		span.SetAttributes(semconv.MessagingGCPPubSubMessageOrderingKey(orderingKey))
	case deliveryAttempt > 0:
		span.SetAttributes(semconv.MessagingGCPPubSubMessageDeliveryAttempt(deliveryAttempt))
	}
}
