// Package watermilltest holds the Watermill set-up that the tests of
// watermilltrace and of the integration module share.
package watermilltest

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// NewGoChannel returns an in-process Pub/Sub closed when the test ends.
// PreserveContext is forced off: only the metadata may carry the trace, as
// with every real broker, or propagation bugs would hide.
func NewGoChannel(tb testing.TB, cfg gochannel.Config) *gochannel.GoChannel {
	cfg.PreserveContext = false
	g := gochannel.NewGoChannel(cfg, watermill.NopLogger{})
	tb.Cleanup(func() { _ = g.Close() })
	return g
}

// NewRouter returns a router with a bounded close timeout.
func NewRouter(tb testing.TB) *message.Router {
	tb.Helper()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// StartRouter runs r until the test ends and waits until it is running.
func StartRouter(tb testing.TB, r *message.Router) {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("router close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("router run: %v", err)
			}
		case <-time.After(telemetrytest.WaitTimeout):
			tb.Errorf("router did not stop within %s", telemetrytest.WaitTimeout)
		}
	})
	select {
	case <-r.Running():
	case err := <-done:
		tb.Fatalf("router stopped before running: %v", err)
	case <-time.After(telemetrytest.WaitTimeout):
		tb.Fatalf("router not running within %s", telemetrytest.WaitTimeout)
	}
}
