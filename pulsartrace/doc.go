// Package pulsartrace traces Apache Pulsar producers and consumers of
// github.com/apache/pulsar-client-go with OpenTelemetry, so that one trace
// continues from the code that sends a message to the code that processes
// it.
package pulsartrace
