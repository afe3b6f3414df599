package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMain(m *testing.M) {
	opts := []goleak.Option{
		// Started by an init function of a Pub/Sub client dependency; it
		// lives as long as the process.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		// The Pub/Sub client's stream keepalive loop notices that Receive
		// returned only when its next ping timer fires.
		goleak.IgnoreTopFunction("cloud.google.com/go/pubsub/v2.(*messageIterator).streamKeepAliveHandler"),
		// The Redis Streams subscriber's reader is not waited for by Close:
		// it sees the closed client, sleeps 500 ms and then returns.
		goleak.IgnoreAnyFunction("github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream.(*Subscriber).read"),
	}
	// pulsar-client-go leaves each producer's send-timeout watcher running
	// for up to the producer's SendTimeout after Close.
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
}
