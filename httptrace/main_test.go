package httptrace_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMain(m *testing.M) {
	// The Pulsar client of the broker round trip leaves a producer's
	// send-timeout watcher running for up to the send timeout after Close;
	// it ends on its own.
	var opts []goleak.Option
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
}
