package pubsubtrace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel/codes"

	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// runExiting runs f in a goroutine and waits until that goroutine ends,
// reporting a panic if there was one.
func runExiting(t *testing.T, f func()) {
	t.Helper()
	var recovered any
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer func() { recovered = recover() }()
		f()
	}()
	<-exited
	if recovered != nil {
		t.Fatalf("a handler's runtime.Goexit became a panic: %v", recovered)
	}
}

// A handler that calls runtime.Goexit (as t.FailNow does) never returns;
// its span must still end, or it would never be exported.
func TestHandlerGoexitEndsSpan(t *testing.T) {
	tel := newTelemetry(t)
	h := pubsubtrace.WrapHandler(nil, func(context.Context, *pubsub.Message) {
		runtime.Goexit()
	}, tel.options()...)
	runExiting(t, func() { h(context.Background(), &pubsub.Message{ID: "m1", Data: []byte("x")}) })
	// The span ends in the handler's goroutine, which has ended.
	ended := tel.ended("process")
	if len(ended) != 1 {
		t.Fatalf("%d process spans ended after the handler exited, want 1", len(ended))
	}
	if ended[0].Status().Code != codes.Error {
		t.Fatalf("status %v, want an error", ended[0].Status())
	}
}

func TestPushHandlerGoexitEndsSpan(t *testing.T) {
	tel := newTelemetry(t)
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		runtime.Goexit()
		return nil
	}, tel.options()...)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(pushEnvelope(nil)))
	req.Header.Set("Content-Type", "application/json")
	runExiting(t, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
	ended := tel.ended("process " + subID)
	if len(ended) != 1 {
		t.Fatalf("%d process spans ended after the handler exited, want 1", len(ended))
	}
	if ended[0].Status().Code != codes.Error {
		t.Fatalf("status %v, want an error", ended[0].Status())
	}
}
