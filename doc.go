// Package asynctrace keeps one OpenTelemetry trace unbroken across HTTP and
// asynchronous messaging. A request that enters over HTTP, is published to a
// broker and is finished by a consumer somewhere else shows up in Jaeger,
// Tempo or any OTLP backend as one trace.
//
// The work is done by the adapter packages:
//
//   - [github.com/asynctrace/asynctrace/pulsartrace]: Apache Pulsar producers and consumers
//   - [github.com/asynctrace/asynctrace/watermilltrace]: Watermill publishers, subscribers and routers
//   - [github.com/asynctrace/asynctrace/pubsubtrace]: Google Cloud Pub/Sub publishing, pull and push
//   - [github.com/asynctrace/asynctrace/httptrace]: HTTP servers and clients
//   - [github.com/asynctrace/asynctrace/provider]: the one-call OpenTelemetry setup for main
//   - [github.com/asynctrace/asynctrace/carrier]: context in and out of message properties
//
// This package holds the options the messaging adapters share. Every option
// has a default taken from the OpenTelemetry globals when the adapter is
// created; the globals delegate to whatever provider is installed later, so
// adapters may be created before the provider.
package asynctrace
