// Package pulsartrace traces Apache Pulsar producers, consumers and readers of
// github.com/apache/pulsar-client-go (v0.19) with OpenTelemetry, so that
// one trace continues from the code that sends a message to the code that
// processes it.
//
// The client's own interceptors are not enough for this: they get no
// context.Context, so a send cannot be parented to the caller's span, and
// its tracing package is internal and OpenTracing-based. pulsartrace wraps
// the client's interfaces instead; the wrappers are drop-in replacements.
//
// # One line for a service
//
// Wrap the client once, and every producer, consumer and reader made
// through it is traced:
//
//	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: url})
//	...
//	client = pulsartrace.WrapClient(client, pulsartrace.WithServiceURL(url))
//
// The values it returns are the client's interfaces, traced as
// [WrapProducer], [WrapConsumer] and [WrapReader] describe below, with the
// options given to WrapClient. Table views, transactions and the client's
// other methods pass through. Each wrapper can also be used on its own, for
// a producer, consumer or reader made elsewhere.
//
// # Producer
//
//	producer = pulsartrace.WrapProducer(producer)
//
// Send and SendAsync start a PRODUCER span "send <topic>" as a child of
// the span in ctx, and write its context (traceparent, tracestate and
// baggage with the W3C propagators) into a copy of the message's
// properties: neither the caller's *pulsar.ProducerMessage nor its
// Properties map is ever written, so both may be reused across concurrent
// sends. A message that gets nothing to inject (tracing off, no baggage) is
// passed on as it is. The span records the message id on success and the
// error otherwise. For SendAsync it ends in the client's callback, once,
// whatever the outcome (persisted, failed, timed out, producer closed), and
// the callback gets the caller's own message back. Flush, FlushWithCtx,
// Close, Name, Topic and LastSequenceID pass through; [UnwrapProducer]
// returns the client's producer.
//
// Trace context never makes a send fail. The client refuses a message
// whose payload and metadata, properties included, exceed the broker's
// maximum message size; the wrapper assumes the default, 5 MiB
// ([carrier.PulsarLimits]), and leaves out whatever trace context would not
// fit (baggage first, traceparent last), reporting each entry left out
// through otel.Handle as a *carrier.LimitError. Such a message is sent
// without it, and its consumer starts a new trace. A broker configured with
// a smaller maximum is not known to the wrapper.
//
// # Consumer
//
//	consumer := pulsartrace.WrapConsumer(raw)
//	defer consumer.Close()
//
// Every message handed out by Receive and Chan gets a CONSUMER span
// "process <topic>", a child of the producer's send span (one unbroken
// trace), or, with asynctrace.WithLinkToProducer, a span in the consumer's
// own trace with a link to the send span. A message without trace context,
// or with a malformed one, is processed like any other with a new root
// span; tracing never makes a message fail.
//
// Receive and Chan cannot return a context, so the message carries it:
//
//	msg, err := consumer.Receive(ctx)
//	ctx := pulsartrace.ContextFromMessage(msg) // also for a ConsumerMessage from Chan
//
// The context holds the process span and the baggage the producer sent; it
// is not done when the Receive context is, which only bounds the wait. The
// messages are wrapped; they still work with the client's own consumer
// (which uses them only through the pulsar.Message interface), and
// [UnwrapMessage] returns the client's message for code that type-asserts
// it. [UnwrapConsumer] returns the client's consumer.
//
// Receive and Chan share one stream of messages. The goroutine that feeds
// Chan takes a message from the client at most one ahead of its reader;
// Receive takes that message as readily as the next one still with the
// client, so a channel asked for and then left unread keeps no message from
// Receive.
//
// The simplest consumer loop is [Handle]: it runs a handler per message
// with its context, acknowledges on nil, nacks on error (recorded on the
// span) and returns when ctx is done or the consumer is closed:
//
//	err := pulsartrace.Handle(ctx, consumer, func(ctx context.Context, msg pulsar.Message) error {
//		return process(ctx, msg)
//	})
//
// The handler's context is done when ctx is. A handler that panics has its
// message nacked and its span ended with the error "asynctrace: handler
// panicked: <value>" before the panic goes on; one that calls
// runtime.Goexit (as t.FailNow does) has it nacked with "asynctrace:
// handler exited without returning". Handle takes any pulsar.Consumer: one
// that is not traced (not from WrapConsumer or a wrapped client) is traced
// with the default options for the duration of the call.
//
// # Readers
//
//	reader = pulsartrace.WrapReader(reader)
//
// Each message Next returns gets a "process <topic>" span too, a child of
// its send span, whose context ContextFromMessage returns. A reader settles
// nothing, so the span covers the reader's work on the message: it ends at
// the next Next, at Seek or SeekByTime, or at Close. Messages a reader
// delivers to ReaderOptions.MessageChannel do not go through the wrapper
// and are not traced.
//
// # Settlement
//
// A process span ends when its message is settled through the wrapped
// consumer: Ack, AckID, AckIDList, AckWithTxn, AckCumulative,
// AckIDCumulative, Nack, NackID, ReconsumeLater or
// ReconsumeLaterWithCustomProperties. The outcome is recorded under the
// Pulsar Java client's key, messaging.pulsar.acknowledgment.type
// ([AcknowledgmentTypeKey]: acknowledge, cumulative_acknowledge,
// negative_acknowledge; and reconsume_later and abandoned, which that
// client does not have), with the error of the ack, or of the handler for
// Handle. The Java client's ack_timeout never occurs: this client has no
// consumer ack timeout, so an unacknowledged message stays open until it is
// settled, its consumer closes or it falls out of the bound below. With
// asynctrace.WithSettleSpans each settle call also gets a CLIENT span
// ("ack <topic>", "cumulative_ack <topic>", ...), a child of the message's
// process span with a link to its send span; one call settling several
// messages (AckIDList, a cumulative ack) gets one span linked to each. A cumulative ack
// ends the spans of every earlier open message of the same topic
// partition. A message delivered again while an earlier delivery is still
// open (after a reconnect) is settled with it.
//
// Messages that are never settled do not leak: Close ends their spans as
// abandoned (the broker redelivers them), and at most
// [DefaultMaxUnsettled] spans stay open per consumer ([WithMaxUnsettled]
// changes it); past that the oldest is ended as abandoned, and its later
// settlement still reaches the client. Close the wrapped consumer, not the
// client's: the wrapper closes the client's consumer, ends the open spans
// and stops the goroutine that feeds Chan.
//
// # Retries and dead letters
//
// ReconsumeLater re-publishes the message to the retry topic with a copy of
// its properties, trace context included, so the retried message continues
// the original send's trace; the same holds for messages routed to the
// dead-letter topic. The process span of such a message names the retry or
// dead-letter topic it was read from and records how often it was
// reconsumed.
//
// # Spans and attributes
//
// Spans follow the OpenTelemetry messaging semantic conventions; the
// attributes each span carries, for this package and the others, are
// listed in one table, docs/semconv.md in the repository. Beyond the
// conventions, process spans record [RedeliveryCountKey],
// [ReconsumeTimesKey] and [AcknowledgmentTypeKey], in the conventions'
// habit of a system namespace. messaging.destination.partition.id is the
// partition of a partitioned topic, and messaging.client.id the producer's
// or consumer's name. The client does not reveal its service URL: give it
// with [WithServiceURL] for server.address and server.port.
//
// messaging.message.id is "ledger:entry:partition", as the client's
// MessageID.String prints it, followed by ":batchIndex" for a message that
// travelled in a batch, so that the messages of one batch are told apart.
//
// messaging.destination.name is the topic the user named, not the partition
// the message travelled through: "-partition-N" is removed, and a topic of
// the default tenant and namespace is given by its short name ("orders"
// for "persistent://public/default/orders"), which is what producers and
// consumers are usually configured with. Topics of other namespaces keep
// their full name.
//
// With asynctrace.WithReceiveSpans, Receive and a reader's Next get a
// CLIENT span "receive <topic>" covering the wait, a child of the caller's
// span with a link to the send span; the process span then links to it.
// Messages from Chan get none: no receive call is made for them. With
// asynctrace.WithLinkAfter, the message's PublishTime decides whether its
// process span is the send span's child or a linked span of its own.
//
// # Metrics
//
// Through the core, with the meter provider of asynctrace.WithMeterProvider
// (or the global one): messaging.client.sent.messages and
// messaging.client.operation.duration for sends; messaging.client.consumed.messages
// and messaging.process.duration for processed messages, a reader's
// included; messaging.client.operation.duration for Receive calls and a
// reader's Next calls (operation "receive") and settle calls (operation
// "ack", "nack", ...), each with error.type on failure. Messages from Chan have no receive duration: there
// is no receive call to time.
//
// # Options
//
// Every constructor takes the options of package asynctrace, which all its
// adapters share: WithTracerProvider, WithMeterProvider, WithPropagators,
// WithSpanAttributes, WithLinkToProducer (consumers), WithMessagingSystem,
// WithServerAddress, WithMessageBodySize, WithFallbackKeyPrefixes,
// WithSettleSpans, WithReceiveSpans and WithLinkAfter. Two
// options are this package's own:
//
//   - [WithServiceURL] sets server.address and server.port from the
//     client's service URL;
//   - [WithMaxUnsettled] bounds the open spans of each consumer.
//
// Without options the global tracer and meter providers are used; the
// tracer provider is looked up for every message, so wrapping may happen
// before it is installed.
// Context flows even where a service set up only a tracer provider: until
// a global propagator is installed, W3C Trace Context and Baggage are
// written and read. A propagator installed globally, or given with
// asynctrace.WithPropagators, always wins.
//
// # Misuse
//
// Mistakes in the code that sets tracing up panic where they are made,
// with a message naming the function: a nil client, producer, consumer,
// reader or handler; WithMaxUnsettled below 1; a WithServiceURL that is not
// a Pulsar service URL; an option of another adapter package (such as
// watermilltrace.WithMaxUnsettled). Nil options are ignored. Nothing a
// broker or a message carries causes a panic.
//
// # Client notes
//
// pulsar-client-go v0.19.0 has a data race of its own in the producer
// reconnect path; the tests that make producers reconnect (dropped
// connections, failed persists) are built with the !race constraint so
// that the rest of the suite runs under the race detector. The
// integration tests run against the in-process broker
// [github.com/asynctrace/asynctrace/pulsartrace/pulsartest], or against a
// real broker when PULSAR_URL is set.
//
// Measured costs are in docs/benchmarks.md at the root of the repository.
package pulsartrace
