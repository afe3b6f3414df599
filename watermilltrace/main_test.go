package watermilltrace_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// No goroutine is ignored: every broker client is closed by the tests,
	// and the Redis subscribers stop reading at once on Close (see
	// setupRedis).
	goleak.VerifyTestMain(m)
}
