// Package pubsubtrace traces Google Cloud Pub/Sub with OpenTelemetry, for the
// cloud.google.com/go/pubsub/v2 client: a publisher wrapper, a wrapper for
// Receive callbacks and an http.Handler for push subscriptions. The trace of
// the request that published a message goes on, unbroken, in the code that
// processes it, with the trace context in the message attributes: W3C
// Trace Context and Baggage unless another propagator is installed globally
// or given with asynctrace.WithPropagators. A service that sets up only a
// tracer provider keeps its traces whole.
//
// # Publishing
//
//	pub := pubsubtrace.WrapPublisher(client.Publisher("orders"))
//	defer pub.Stop()
//	res := pub.Publish(ctx, &pubsub.Message{Data: payload})
//
// [Publisher.Publish] starts a PRODUCER span "send <topic ID>" as a child of
// ctx's span and publishes a copy of the message whose attributes carry the
// span's context; the caller's message and attribute map are never written,
// and when there is nothing to inject the message itself is published.
// Pub/Sub's attribute limits are kept (100 attributes, keys up to 256 bytes,
// values up to 1024 bytes): an entry that would break them is left out and
// reported to otel.Handle, so a message that already has 99 attributes gets
// its traceparent but not its baggage, and the publish still succeeds.
//
// The span ends when the client settles the publish, with the server-assigned
// message ID or the error, whether or not anyone calls
// [pubsub.PublishResult.Get]: within a scheduling delay of the publish
// completing, in whatever order the client completes publishes, except that
// a publish completing while hundreds of older ones are still in flight
// (a retried publish, a stalled ordering key) may see its span end up to
// about 10ms later. A Publisher runs at most one background goroutine,
// however many publishes are in flight.
// [Publisher.Stop] stops the wrapped publisher and waits until every span
// has ended; [Publisher.Shutdown] does the same within a deadline and ends
// the spans still open with [ErrAbandoned].
//
// # Receiving
//
//	err := sub.Receive(ctx, pubsubtrace.WrapHandler(sub, func(ctx context.Context, m *pubsub.Message) {
//		// ctx carries the process span and the publisher's baggage.
//		pubsubtrace.Ack(ctx, m)
//	}))
//
// [WrapHandler] runs the callback inside a CONSUMER span
// "process <subscription ID>", a child of the publisher's span (extracted
// from the attributes). The span ends when the callback returns. The v2
// [pubsub.Message] hides its acknowledgement handler, so a wrapper cannot see
// Ack or Nack; [Ack] and [Nack] of this package settle the message and
// record the settlement on the span and in the metrics. With m.Ack() the
// span records no settlement. A message without trace context, or with a
// malformed or oversized one, is processed like any other, without a remote
// parent.
//
// A callback that panics ends its span with the error "asynctrace: handler
// panicked: <value>", and the panic goes on to the client; one that calls
// runtime.Goexit (t.FailNow in a test) ends it with "asynctrace: handler
// exited without returning".
//
// # Push subscriptions
//
//	http.Handle("/push", pubsubtrace.NewPushHandler(func(ctx context.Context, m *pubsubtrace.PushMessage) error {
//		return process(ctx, m.Data)
//	}))
//
// [NewPushHandler] returns an http.Handler that decodes the push envelope
// ({"message": {"data", "attributes", "messageId", "publishTime",
// "orderingKey"}, "subscription", "deliveryAttempt"}, camelCase or
// snake_case), runs the handler inside the same CONSUMER span as
// WrapHandler, and answers 204 when it returns nil (Pub/Sub's
// acknowledgement) or 500 when it returns an error (Pub/Sub delivers
// again). A body that is not a push envelope gets 400 with the
// reason, a body over the limit of [WithMaxPushBodyBytes] (default
// [DefaultMaxPushBodyBytes]) 413, a method other than POST 405; none of them
// reach the handler. A handler that panics or calls runtime.Goexit gets its
// span ended as a callback's is, and the message is recorded as nacked.
// Only the wrapped push format is understood (not "payload unwrapping").
//
// # Spans and attributes
//
// Spans follow the OpenTelemetry messaging semantic conventions; the
// attributes each span carries are listed, with the other adapters', in
// one table, docs/semconv.md in the repository.
//
//   - send <topic ID> (PRODUCER), one per message.
//   - process <subscription ID> (CONSUMER): the conventions' Pub/Sub
//     examples name the subscription as the consumer's destination (a
//     subscriber does not know the topic). The operation is "process" (the
//     handler's work), not the conventions' Pub/Sub-specific "subscribe",
//     which spans the time from receipt to acknowledgement inside the
//     client. The settlement is recorded as asynctrace.message.settlement
//     ("ack", "nack") after Ack, Nack or a push response.
//   - ack|nack <subscription ID> (CLIENT), with asynctrace.WithSettleSpans:
//     one per [Ack] or [Nack], a child of the process span with a link to
//     the send span.
//
// With asynctrace.WithLinkAfter, a message whose PublishTime lies further
// back than the threshold gets a process span in the consumer's own trace,
// linked to the send span. Failures set error.type, the span status and an
// exception event.
//
// The metrics are the conventions' messaging metrics:
// messaging.client.sent.messages and messaging.client.operation.duration per
// publish (from Publish to the server's answer), messaging.client.consumed.messages
// and messaging.process.duration per processed message, and
// messaging.client.operation.duration for Ack and Nack (operation "ack" or
// "nack", type "settle").
//
// # Options
//
// Every constructor takes the options of the asynctrace package:
// WithTracerProvider and WithMeterProvider (defaults: the otel globals,
// looked up when used), WithPropagators (default: the global propagator once
// one is installed, W3C Trace Context and Baggage until then),
// WithSpanAttributes, WithLinkToProducer (start process spans in the
// consumer's own trace, linked to the producer's span), WithMessagingSystem,
// WithServerAddress, WithMessageBodySize, WithFallbackKeyPrefixes,
// WithSettleSpans and WithLinkAfter. This
// package adds [WithGoogleClientKeys] and [WithMaxPushBodyBytes].
//
// A nil publisher, subscriber or handler makes the constructor panic, as
// does an option of another adapter package (httptrace.WithoutTraceResponse,
// say); nil options are ignored.
//
// # The client's built-in tracing
//
// The v2 client can trace on its own (ClientConfig.EnableOpenTelemetryTracing,
// off by default). It uses only the global tracer provider and only W3C
// Trace Context, without baggage, under the attribute keys
// googclient_traceparent and googclient_tracestate, which other libraries do
// not read. This package works with it in both directions:
//
//   - A message published with the built-in tracing alone is continued by
//     WrapHandler and NewPushHandler: when a message has no plain
//     traceparent, the googclient_ keys are read (see
//     asynctrace.WithFallbackKeyPrefixes).
//   - A subscriber that relies on the built-in tracing alone continues a
//     message published through Publisher only if the googclient_ keys are
//     written: publish with [WithGoogleClientKeys] (off by default, as it
//     costs up to two attributes per message). If the publishing client has the
//     built-in tracing on, it writes those keys itself, for its "create"
//     span, which is a child of the send span.
//   - With the built-in tracing on at both ends and this package too, there
//     is still one trace and no span with two parents: the built-in
//     "<topic> create" span is a child of "send <topic>", the built-in
//     "<subscription> subscribe" and "<subscription> process" spans follow
//     from it, and "process <subscription>" is a child of "send <topic>"
//     with a link to the built-in process span its callback ran in.
//
// Recommended setup: this package at both ends, the built-in tracing off.
// Turn the built-in tracing on only for the client's own spans (flow
// control, batching, the publish, ack and modack calls); the traces stay
// whole, with two consumer spans per message. In a fleet where some
// subscribers rely on the built-in tracing alone, give the publishers
// WithGoogleClientKeys.
//
// # The v1 client
//
// cloud.google.com/go/pubsub (v1) is deprecated and its support ends on
// 2026-12-31; these wrappers take v2 types only. Until you migrate, use the
// carrier package directly:
//
//	msg.Attributes = carrier.Injector{Limits: carrier.PubSubLimits}.Inject(ctx, msg.Attributes)
//	topic.Publish(ctx, msg)
//
// on the message you are about to publish (Inject returns a copy and never
// writes the map it is given), and
//
//	ctx = carrier.Extract(ctx, m.Attributes)
//
// at the start of a Receive callback, before starting your own span.
package pubsubtrace
