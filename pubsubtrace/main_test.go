package pubsubtrace_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// OpenCensus, which the Pub/Sub client still imports, starts its
		// stats worker in an init function; it lives as long as the
		// process.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		// The client's stream keep-alive loop checks for the end of Receive
		// only between ticks of its ping timers, so it outlives Receive by
		// up to one ping interval however the client is closed.
		goleak.IgnoreTopFunction("cloud.google.com/go/pubsub/v2.(*messageIterator).streamKeepAliveHandler"),
	)
}
