// Package watermilltrace keeps one OpenTelemetry trace unbroken across
// Watermill (github.com/ThreeDotsLabs/watermill): whatever Pub/Sub is behind
// it (Redis Streams, RabbitMQ, NATS JetStream, SQL, Kafka, GoChannel, ...),
// the context of the code that publishes a message travels in the message's
// metadata and the handler that processes it continues the same trace.
//
// # Setup
//
// With a router, two lines:
//
//	router.AddMiddleware(watermilltrace.Middleware())
//	router.AddPublisherDecorators(watermilltrace.PublisherDecorator())
//
// and a wrapped publisher wherever messages are published outside the
// router, for example in an HTTP handler (publish with the request's
// context in the message):
//
//	pub = watermilltrace.WrapPublisher(pub)
//	msg := message.NewMessageWithContext(r.Context(), watermill.NewUUID(), payload)
//	err := pub.Publish("orders", msg)
//
// Code that reads a subscriber's channel itself, without a router, wraps the
// subscriber instead of adding the middleware:
//
//	sub = watermilltrace.WrapSubscriber(sub)
//
// Add the middleware first, so that the spans of the other middleware
// (retries, poison queue, ...) belong to the message's trace too.
//
// # Spans
//
//   - "send <topic>", kind PRODUCER, one per message (not one per Publish
//     call), a child of the span in msg.Context() or, when that has none,
//     of the trace context already in the message's metadata (a received
//     message copied and published again). Its context is written
//     into msg.Metadata (traceparent, tracestate, baggage, as the propagator
//     decides); the Metadata field is replaced by a copy, so a map the
//     caller shares is never written. An error from Publish is recorded on
//     the span of every message of the call.
//   - "process <topic>", kind CONSUMER, named after the topic the handler
//     subscribes to, a child of the producer's send span. With
//     asynctrace.WithLinkToProducer it starts in the consumer's own trace
//     instead, with a link to the send span. The message's context is
//     replaced by one carrying the span (msg.SetContext), so that spans the
//     handler starts and HTTP calls it makes with msg.Context() join the
//     trace. In the middleware the span ends when the handler returns, with
//     the handler's error (or panic) recorded; from [WrapSubscriber] it ends
//     when the message is acked or nacked.
//
// Attributes follow the OpenTelemetry messaging semantic conventions:
// messaging.system, messaging.operation.type and messaging.operation.name,
// messaging.destination.name (the topic), messaging.message.id (the
// message's UUID), error.type on failure, and server.address/server.port and
// messaging.message.body.size when asked for. Process spans also carry
// watermill.handler.name (the router handler's name) and, when the
// settlement is known, asynctrace.message.settlement (ack, nack, or
// abandoned for a message still unsettled when its subscription ended).
//
// The messaging metrics of the conventions are recorded too:
// messaging.client.sent.messages, messaging.client.consumed.messages,
// messaging.client.operation.duration (sends) and messaging.process.duration.
//
// # messaging.system
//
// The conventions list no value for Watermill, and Watermill does not tell
// which broker a publisher or subscriber talks to. The default is
// "watermill" (DefaultMessagingSystem); name the real broker with
// asynctrace.WithMessagingSystem, using the conventions' values where there
// is one: "redis", "rabbitmq", "nats", "kafka", "gcp_pubsub", "aws_sqs",
// or the database's name ("postgresql", "mysql") for watermill-sql.
//
// # Messages a handler returns
//
// The router publishes the messages a handler returns after the middleware
// chain has returned. The middleware prepares them: a returned message with
// no span in its context gets the process span's context (one that has a
// span of its own, from NewMessageWithContext, keeps it), and its metadata
// carries that context. With PublisherDecorator on the router, each is then
// published in a "send <topic>" span, a child of the process span; without
// it, the next consumer's process span is a child of this process span.
// Either way the trace goes on. This holds for a returned msg.Copy() too,
// whose metadata still holds the incoming message's traceparent: it is
// replaced.
//
// # Robustness
//
// Messages whose context was dropped on the way (Copy, brokers, GoChannel
// without PreserveContext) are traced through their metadata alone. Nil
// metadata is fine. A missing, malformed or oversized traceparent is treated
// as absent: the process span starts a new trace, and the handler runs and
// the message is acked as without tracing. The upstream sampled flag is
// respected, never forced. Tracing never changes a payload, never drops a
// message and never fails or nacks one.
//
// # Options
//
// Every constructor takes asynctrace options: WithTracerProvider,
// WithMeterProvider and WithPropagators (the otel globals by default),
// WithMessagingSystem, WithLinkToProducer, WithSpanAttributes,
// WithServerAddress, WithMessageBodySize and WithFallbackKeyPrefixes.
package watermilltrace
