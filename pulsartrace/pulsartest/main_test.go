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
	goleak.VerifyTestMain(m, opts...)
}
