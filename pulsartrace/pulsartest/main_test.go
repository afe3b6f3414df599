package pulsartest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMain(m *testing.M) {
	var opts []goleak.Option
	// Goroutines of the client library that outlive Close by design; see
	// KnownClientGoroutines. The server's own goroutines are all checked.
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	// pulsar.NewClient does not close its connection pool when it fails
	// after creating it, which TestUnsupportedFeatureFailsFast provokes on
	// purpose (transactions against a broker without a coordinator). Every
	// client that NewClient returns is closed by the tests.
	opts = append(opts, goleak.IgnoreTopFunction(
		"github.com/apache/pulsar-client-go/pulsar/internal.(*connectionPool).checkAndCleanIdleConnections"))
	// A producer that the client closes itself because its topic was
	// terminated keeps its reconnect goroutine (pulsar-client-go v0.19.0
	// cancels it only in Close, which is then a no-op), whether it waits or
	// is in the middle of a lookup retry.
	opts = append(opts, goleak.IgnoreAnyFunction(
		"github.com/apache/pulsar-client-go/pulsar.(*partitionProducer).runEventsLoop.func1"))
	goleak.VerifyTestMain(m, opts...)
}
