package pulsartest_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// quietLogger keeps the client's reconnect chatter out of test output.
func quietLogger() plog.Logger {
	return plog.NewLoggerWithSlog(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

func newClient(t testing.TB, srv *pulsartest.Server) pulsar.Client {
	t.Helper()
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               srv.URL(),
		OperationTimeout:  10 * time.Second,
		ConnectionTimeout: 5 * time.Second,
		Logger:            quietLogger(),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func newServer(t testing.TB, opts ...pulsartest.Option) *pulsartest.Server {
	t.Helper()
	if testing.Verbose() {
		opts = append(opts, pulsartest.WithLogger(slog.Default()))
	}
	return pulsartest.NewServer(t, opts...)
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receive reads n messages or fails the test after the timeout.
func receive(t testing.TB, c pulsar.Consumer, n int, timeout time.Duration) []pulsar.Message {
	t.Helper()
	ctx := ctxT(t, timeout)
	out := make([]pulsar.Message, 0, n)
	for len(out) < n {
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("Receive after %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
