package frameworks_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMain(m *testing.M) {
	opts := []goleak.Option{
		// fasthttp (under Fiber) refreshes its cached Date header from a
		// goroutine it starts once per process and never stops.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// Its worker pool's cleaner notices a shutdown only when it wakes,
		// up to ten seconds later.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	}
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
}
