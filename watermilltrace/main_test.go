package watermilltrace_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// No goroutine is ignored: every Pub/Sub, router and subscriber a test
	// starts is closed by it.
	goleak.VerifyTestMain(m)
}
