// Package carrier moves OpenTelemetry context in and out of the string maps
// that message brokers attach to every message: Pulsar's Properties,
// Watermill's message.Metadata and Google Pub/Sub's Attributes are all a
// map[string]string, so one carrier serves them all.
//
// The broker adapters of asynctrace use this package; it is public for code
// that talks to a broker client asynctrace does not wrap (for example the
// deprecated Pub/Sub v1 client: call [Inject] on the attributes before
// publishing and [Extract] on the attributes of a received message).
//
// # Guarantees
//
//   - Nil-safe: injecting into a nil map yields a new map; extracting from a
//     nil map returns the context unchanged.
//   - The caller's map is never written. [Injector.Inject] returns a copy that
//     holds the injected keys, and copies only when there is something to
//     inject, so a map reused across concurrent sends stays untouched.
//   - Trace context never makes a publish fail. With [Limits] set, an entry
//     whose key or value is too long, that would exceed the attribute count,
//     or that would push the message's entries (or entries and payload, with
//     [Injector.InjectSized]) past the broker's size limit is left out and
//     reported through otel.Handle as a [*LimitError]; the message goes out
//     without it. traceparent claims the room first and baggage last, so a
//     message with a little room still continues the trace; one with none
//     is sent without trace context, and its consumer starts a new trace.
//     [PubSubLimits], [NATSLimits], [AMQPLimits], [KafkaLimits] and
//     [PulsarLimits] hold the brokers' default limits; sizes are estimated
//     from the broker's encoding, erring on the side of leaving out.
//   - Context written by other producers is read: the plain W3C keys
//     (traceparent, tracestate, baggage) first, and, when the message has no
//     plain traceparent, the same keys behind a fallback prefix. By default
//     that prefix is "googclient_", the one Pub/Sub's built-in tracing uses.
//   - Malformed, oversized or hostile values are treated as absent: extraction
//     never panics and never fails a message; the propagator simply finds no
//     parent.
package carrier
