// Package pulsarproto holds the Go types of the Apache Pulsar binary
// protocol, generated from the PulsarApi.proto that ships with
// github.com/apache/pulsar-client-go under a renamed proto package so that it
// can live in the same program as the client.
package pulsarproto

//go:generate ./generate.sh
