// Package asynctrace keeps one OpenTelemetry trace unbroken across HTTP and
// asynchronous messaging. A request that enters over HTTP, is published to a
// broker and is finished by a consumer somewhere else shows up in Jaeger,
// Tempo or any OTLP backend as one trace.
//
// The work is done by the adapter packages:
//
//   - [github.com/asynctrace/asynctrace/pulsartrace]: Apache Pulsar clients, producers, consumers and readers
//   - [github.com/asynctrace/asynctrace/watermilltrace]: Watermill publishers, subscribers and routers
//   - [github.com/asynctrace/asynctrace/pubsubtrace]: Google Cloud Pub/Sub publishing, pull and push
//   - [github.com/asynctrace/asynctrace/httptrace]: HTTP servers and clients
//
// and by the packages around them:
//
//   - [github.com/asynctrace/asynctrace/provider]: the one-call OpenTelemetry setup for main
//   - [github.com/asynctrace/asynctrace/tracecheck]: proof in tests and CI that a trace is unbroken; trees while developing
//   - [github.com/asynctrace/asynctrace/slogtrace]: trace and span ids in log/slog records
//   - [github.com/asynctrace/asynctrace/carrier]: context in and out of message properties, for clients asynctrace does not wrap
//   - [github.com/asynctrace/asynctrace/pulsartrace/pulsartest]: a Pulsar broker in memory, for tests and local development
//
// This package holds [Option], which every adapter takes, and the options
// they all share. Nothing is required: the tracer and meter providers not
// given are the OpenTelemetry globals, looked up when used, so adapters may
// be created before the provider is installed; the propagator not given is
// the global one once installed, and W3C Trace Context and Baggage until
// then, so the trace travels even in a service that set up only a tracer
// provider. Each adapter adds options of its own; giving it another
// adapter's option, a nil required argument or an out-of-range value panics
// at construction, naming the function and the argument.
package asynctrace
