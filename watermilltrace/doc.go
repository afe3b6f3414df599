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
//	router.AddMiddleware(watermilltrace.NewMiddleware())
//	router.AddPublisherDecorators(watermilltrace.NewPublisherDecorator())
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
// (retries, poison queue, ...) belong to the message's trace too. Wrapping
// a publisher or subscriber that is already wrapped returns it unchanged, so
// a message never gets two send spans from it.
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
//     the handler's error recorded; from [WrapSubscriber] it ends when the
//     message is acked or nacked.
//
// Attributes follow the OpenTelemetry messaging semantic conventions; the
// attributes each span carries are listed, with the other adapters', in one
// table, docs/semconv.md in the repository. Process spans also carry
// watermill.handler.name ([HandlerNameKey], the router handler's name)
// and, when the settlement is known, asynctrace.message.settlement: ack,
// nack, or abandoned for a message whose settlement stopped being watched,
// because its subscription ended first or because more unsettled messages
// of the subscription followed it than [WithMaxUnsettled] allows (default
// [DefaultMaxUnsettled]). A message.Subscriber does not reveal its consumer
// group, durable name or queue: give it with [WithConsumerGroup] for
// messaging.consumer.group.name. The broker's address and the client's id
// are not known either (asynctrace.WithServerAddress sets the address).
//
// With asynctrace.WithSettleSpans, the Ack or Nack of a message from
// [WrapSubscriber] is marked by a CLIENT span "ack <topic>" or "nack
// <topic>", a child of the process span with a link to the send span, at
// the moment the subscriber saw it. The middleware sees no settlement: the
// router settles after the handler returns. Watermill messages carry no
// publish time the adapter could rely on, so asynctrace.WithLinkAfter has
// no effect here.
//
// # Publishing several messages at once
//
// Publish(topic, msgs...) gets one send span per message, whose context
// goes into that message, so that each message's consumers continue from
// their own message. For an API that usually sends batches, the messaging
// conventions recommend a "create" span per message plus one batch "send"
// span linked to them. Watermill's Publish usually gets one message, and
// whether a backend sends several in one operation is not visible to the
// adapter (most publish them one by one), so no batch span is made; an
// error of the call is recorded on the span of every message.
//
// A handler that panics ends its span with the error "asynctrace: handler
// panicked: <value>", and the panic goes on to the router, which recovers
// it and nacks the message; one that calls runtime.Goexit (t.FailNow in a
// test) ends it with "asynctrace: handler exited without returning".
//
// The messaging metrics of the conventions are recorded too:
// messaging.client.sent.messages, messaging.client.consumed.messages,
// messaging.client.operation.duration (sends) and messaging.process.duration.
//
// # messaging.system
//
// The conventions list no value for Watermill, and Watermill does not tell
// which broker a publisher or subscriber talks to. The default is
// "watermill" ([DefaultMessagingSystem]); name the real broker with
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
// carries that context. With [NewPublisherDecorator] on the router, each is
// then published in a "send <topic>" span, a child of the process span;
// without it, the next consumer's process span is a child of this process
// span.
// Either way the trace goes on. This holds for a returned msg.Copy() too,
// whose metadata still holds the incoming message's traceparent: it is
// replaced.
//
// # Broker limits
//
// Trace context never makes a publish fail. Brokers bound what a message
// may carry: NATS JetStream a header block of 64 KiB, RabbitMQ a header
// table within one frame (128 KiB by default) and keys of 255 bytes, Kafka
// a record of about 1 MB, Google Pub/Sub 100 attributes of limited length.
// With asynctrace.WithMessagingSystem naming the broker ("nats",
// "rabbitmq", "kafka", "gcp_pubsub", "pulsar"), the publishers of this
// package keep within its default limits, less room for the header that
// holds Watermill's message UUID; [WithMetadataLimits] sets other limits.
// What does not fit is left out: baggage first, traceparent last. Each
// entry left out is reported through otel.Handle as a *carrier.LimitError,
// and the message is published with its own metadata and payload untouched.
// A message published without traceparent starts a new trace at its
// consumer. Redis Streams, SQL and GoChannel have no limit trace context
// could reach; with no messaging system named (the default "watermill"),
// nothing is left out.
//
// # Robustness
//
// Messages whose context was dropped on the way (Copy, brokers, GoChannel
// without PreserveContext) are traced through their metadata alone. Nil
// metadata is fine. A missing, malformed or oversized traceparent is treated
// as absent: the process span starts a new trace, and the handler runs and
// the message is acked as without tracing. The upstream sampled flag is
// respected, never forced. Tracing never changes a payload, never drops a
// message and never fails one. The one nack it sends is for a message a
// subscription from [WrapSubscriber] read but could not hand over because
// the subscription ended, so that the broker delivers it again.
//
// # Options
//
// Every constructor takes the options of the asynctrace package:
// WithTracerProvider and WithMeterProvider (defaults: the otel globals,
// looked up when used), WithPropagators (default: the global propagator
// once one is installed, W3C Trace Context and Baggage until then, so the
// trace travels without any setup), WithMessagingSystem, WithLinkToProducer,
// WithSpanAttributes, WithServerAddress, WithMessageBodySize,
// WithFallbackKeyPrefixes and WithSettleSpans. This package adds
// [WithMaxUnsettled], [WithMetadataLimits] and [WithConsumerGroup].
//
// A nil publisher or subscriber makes [WrapPublisher] or [WrapSubscriber]
// panic, as does an option of another adapter package
// (httptrace.WithoutTraceResponse, say) given to any constructor of this
// one, [WithMaxUnsettled] below 1 and [WithMetadataLimits] with a negative
// limit; nil options are ignored. The router
// handing a nil publisher to the decorator from [NewPublisherDecorator] is
// reported as [ErrNilPublisher] instead.
package watermilltrace
