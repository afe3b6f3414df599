package messaging

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/asynctrace/asynctrace/carrier"
)

// This file describes, from the keys and values the core records, what each
// adapter records: docs/semconv.md is generated from it (TestSemconvTable),
// so that the table cannot drift from the code that fills spans.

// Adapters, in the order of the table's columns.
var tableAdapters = []string{"pulsartrace", "watermilltrace", "pubsubtrace"}

// spanRow is one kind of span.
type spanRow struct {
	op, kind, when string
	cells          [3]string
}

func spanRows() []spanRow {
	return []spanRow{
		{spanName(opSend, "{destination}"), "PRODUCER", "always", [3]string{"Send, SendAsync", "Publish (one per message)", "Publish"}},
		{spanName(opReceive, "{destination}"), "CLIENT", "asynctrace.WithReceiveSpans", [3]string{"Receive, reader Next", "—", "— (push-based)"}},
		{spanName(opProcess, "{destination}"), "CONSUMER", "always", [3]string{"Receive, Chan, Handle, reader Next", "NewMiddleware, WrapSubscriber", "WrapHandler, NewPushHandler"}},
		{spanName("{settlement}", "{destination}"), "CLIENT", "asynctrace.WithSettleSpans", [3]string{"Ack, AckID, AckIDList, AckWithTxn, AckCumulative, AckIDCumulative, Nack, NackID, ReconsumeLater", "Ack/Nack of a message from WrapSubscriber", "pubsubtrace.Ack, pubsubtrace.Nack"}},
	}
}

// attrRow is one attribute: where it is recorded, and by which adapter.
type attrRow struct {
	key   attribute.Key
	spans string
	cells [3]string
}

func attrRows() []attrRow {
	const all = "yes"
	return []attrRow{
		{semconv.MessagingSystemKey, "all, metrics", [3]string{"`pulsar`", "`watermill` or asynctrace.WithMessagingSystem", "`gcp_pubsub`"}},
		{semconv.MessagingOperationTypeKey, "all, metrics", [3]string{all, all, all}},
		{semconv.MessagingOperationNameKey, "all, metrics", [3]string{all, all, all}},
		{semconv.MessagingDestinationNameKey, "all, metrics", [3]string{"topic (partition suffix removed)", "topic", "topic ID (send), subscription ID (consumer side)"}},
		{semconv.MessagingDestinationSubscriptionNameKey, "consumer side, metrics", [3]string{"subscription", "—", "subscription ID"}},
		{semconv.MessagingConsumerGroupNameKey, "consumer side, metrics", [3]string{"—", "watermilltrace.WithConsumerGroup", "—"}},
		{semconv.MessagingDestinationPartitionIDKey, "consumer-side spans and metrics; send spans", [3]string{"partition index of a partitioned topic", "—", "—"}},
		{semconv.MessagingClientIDKey, "spans", [3]string{"producer or consumer name", "— (not exposed)", "— (not exposed)"}},
		{semconv.MessagingMessageIDKey, "send (on success), receive, process", [3]string{"message id `ledger:entry:partition`, `:batch` for a batched message", "message UUID", "message ID"}},
		{semconv.MessagingMessageBodySizeKey, "send, process", [3]string{"asynctrace.WithMessageBodySize", "asynctrace.WithMessageBodySize", "asynctrace.WithMessageBodySize"}},
		{semconv.MessagingBatchMessageCountKey, "settle of several messages", [3]string{"AckIDList, cumulative ack", "—", "—"}},
		{semconv.ServerAddressKey, "all, metrics", [3]string{"pulsartrace.WithServiceURL or asynctrace.WithServerAddress", "asynctrace.WithServerAddress", "asynctrace.WithServerAddress"}},
		{semconv.ServerPortKey, "all, metrics", [3]string{"pulsartrace.WithServiceURL or asynctrace.WithServerAddress", "asynctrace.WithServerAddress", "asynctrace.WithServerAddress"}},
		{semconv.ErrorTypeKey, "all, metrics (on failure)", [3]string{all, all, all}},
		{semconv.MessagingGCPPubSubMessageOrderingKeyKey, "send, process", [3]string{"—", "—", "when set"}},
		{semconv.MessagingGCPPubSubMessageDeliveryAttemptKey, "process", [3]string{"—", "—", "with a dead-letter policy"}},
		{PulsarRedeliveryCountKey, "process", [3]string{all, "—", "—"}},
		{PulsarReconsumeTimesKey, "process", [3]string{"messages from a retry or dead-letter topic", "—", "—"}},
		{PulsarAcknowledgmentTypeKey, "process", [3]string{"the settlement (values below)", "—", "—"}},
		{SettlementKey, "process", [3]string{"— (messaging.pulsar.acknowledgment.type)", "the settlement (values below)", "the settlement (values below)"}},
		{WaitKey, "process", [3]string{"asynctrace.WithLinkAfter", "— (no publish time)", "asynctrace.WithLinkAfter"}},
		{"watermill.handler.name", "process", [3]string{"—", "NewMiddleware", "—"}},
		{"gcp.project_id", "all", [3]string{"—", "—", "project of the topic or subscription"}},
	}
}

// vocabularies are the settlement vocabularies of the adapters, in column
// order.
var vocabularies = [3]Vocabulary{PulsarVocabulary, DefaultVocabulary, DefaultVocabulary}

// settlementsRecorded are the settlements each adapter can record.
var settlementsRecorded = [3][]Settlement{
	{SettleAck, SettleCumulativeAck, SettleNack, SettleReconsumeLater, SettleAbandoned},
	{SettleAck, SettleNack, SettleAbandoned},
	{SettleAck, SettleNack},
}

// SemconvTable renders docs/semconv.md.
func SemconvTable() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(cells ...string) { w("| %s |\n", strings.Join(cells, " | ")) }
	sep := func(n int) { row(strings.Split(strings.Repeat("---,", n-1)+"---", ",")...) }

	w("# What each adapter records\n\n")
	w("<!-- Generated by `go test ./internal/messaging -run TestSemconvTable -update`; do not edit. -->\n\n")
	w("OpenTelemetry messaging semantic conventions, Go package semconv %s (%s).\n", semconvVersion(), semconv.SchemaURL)
	w("Span names are `{operation} {destination}`; without a destination name, the operation alone.\n\n")

	w("## Spans\n\n")
	row(append([]string{"span", "kind", "recorded"}, tableAdapters...)...)
	sep(3 + len(tableAdapters))
	for _, r := range spanRows() {
		row("`"+r.op+"`", r.kind, r.when, r.cells[0], r.cells[1], r.cells[2])
	}
	w("\nThe process span is a child of the producer's send span. With asynctrace.WithLinkToProducer, or with\n")
	w("asynctrace.WithLinkAfter for a message that waited longer than the threshold, it starts in the consumer's\n")
	w("own trace (a child of the consumer's current span, or a new root) with a link to the send span. A span the\n")
	w("consumer already has (a batch, a receive span) becomes a link of the process span; when the message carries\n")
	w("no trace context, or the process span starts in the consumer's trace, the receive span is its parent instead.\n")
	w("A settle span is a child of the process span with a link to the message's send span; a receive span (Pulsar\n")
	w("Receive, pulsartrace.Handle, a reader's Next) is a child of the caller's span with a link to the send span.\n\n")

	w("## Attributes\n\n")
	row(append([]string{"attribute", "on"}, tableAdapters...)...)
	sep(2 + len(tableAdapters))
	for _, r := range attrRows() {
		row("`"+string(r.key)+"`", r.spans, r.cells[0], r.cells[1], r.cells[2])
	}

	w("\nNone of the clients reveals the address it connects to (pulsar.Client, pubsub.Publisher and pubsub.Subscriber,\n")
	w("message.Publisher and message.Subscriber have no accessor for it), so `server.address` and `server.port` come\n")
	w("from an option only.\n")
	w("\n## Settlement values\n\n")
	w("One fact, one key: Pulsar uses the key and values of the Pulsar Java client's tracing; the other adapters use `%s`.\n", SettlementKey)
	w("The same settlement names the operation (`messaging.operation.name`) of settle spans and metrics.\n\n")
	row(append([]string{"settlement (operation name)"}, tableAdapters...)...)
	sep(1 + len(tableAdapters))
	for s := SettleAck; s < settlementCount; s++ {
		cells := []string{"`" + s.String() + "`"}
		for i, v := range vocabularies {
			cell := "—"
			for _, r := range settlementsRecorded[i] {
				if r == s {
					cell = fmt.Sprintf("`%s=%s`", v.attributes()[s].Key, v.Value(s))
				}
			}
			cells = append(cells, cell)
		}
		row(cells...)
	}
	w("\n`abandoned`: the consumer closed, or the message fell out of the bound of unsettled messages watched, before it was settled.\n")
	w("`ack_timeout` (Java client) is never recorded: pulsar-client-go v0.19 has no consumer ack timeout.\n\n")

	w("## Batch publish (Watermill)\n\n")
	w("`Publisher.Publish(topic, msgs...)` gets one `send` span (PRODUCER) per message, whose context goes into that\n")
	w("message. The conventions inject each message's own creation context, and recommend a `create` span per message\n")
	w("plus one batch `send` span (CLIENT, linked to the `create` spans) for APIs that usually send batches. Watermill's\n")
	w("Publish is variadic but usually gets one message, and most backends (GoChannel, AMQP, NATS, Redis Streams)\n")
	w("publish the slice message by message, which the adapter cannot see; a span per message is the structure the\n")
	w("conventions give a single-message send, and it keeps each consumer a child of its own message's span. No\n")
	w("`create` or batch span is made; each span records the error of the whole call.\n\n")
	w("## Metrics\n\n")
	w("`messaging.client.sent.messages`, `messaging.client.consumed.messages`, `messaging.client.operation.duration`\n")
	w("(send, receive, settle) and `messaging.process.duration`, with the attributes marked \"metrics\" above.\n\n")

	w("## Propagation\n\n")
	w("W3C Trace Context and Baggage unless a propagator is configured or installed. Keys read when a message has no\n")
	w("plain `traceparent`: for Pub/Sub, keys prefixed `%s` (the client's built-in tracing); for the other\n", carrier.GoogleClientPrefix)
	w("brokers none, unless asynctrace.WithFallbackKeyPrefixes names some.\n")
	return b.String()
}

func semconvVersion() string {
	return semconv.SchemaURL[strings.LastIndex(semconv.SchemaURL, "/")+1:]
}
