// Package pubsubtrace traces Google Cloud Pub/Sub publishing and receiving
// with OpenTelemetry, for the cloud.google.com/go/pubsub/v2 client.
package pubsubtrace
