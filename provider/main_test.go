package provider_test

import (
	"os"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.uber.org/goleak"
)

// exportErrors collects what the SDK reports to the global error handler
// (failed exports), so tests can assert on it and the output stays quiet.
var exportErrors = &errorRecorder{}

type errorRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *errorRecorder) Handle(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *errorRecorder) reset() {
	r.mu.Lock()
	r.errs = nil
	r.mu.Unlock()
}

func (r *errorRecorder) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func TestMain(m *testing.M) {
	otel.SetErrorHandler(exportErrors)
	// The tests set OTEL_* variables themselves; inherited ones would
	// change what they observe.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			_ = os.Unsetenv(k)
		}
	}
	goleak.VerifyTestMain(m)
}
