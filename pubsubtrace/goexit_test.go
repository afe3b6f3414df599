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
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

const (
	exitedStatus   = "asynctrace: handler exited without returning"
	panickedStatus = "asynctrace: handler panicked: kaput"
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

// runPanicking calls f and fails unless it panics with "kaput": the
// handler's panic must go on to the caller unchanged.
func runPanicking(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != "kaput" {
			t.Fatalf("recovered %v, want the handler's panic", r)
		}
	}()
	f()
}

// wantAborted fails unless the one span ended is an error with the status
// description want and the settlement settlement ("" for none recorded).
func wantAborted(t *testing.T, tel *telemetrytest.Telemetry, want, settlement string) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := tel.Recorder.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended after the handler stopped, want 1: %v", len(ended), telemetrytest.SpanNames(ended))
	}
	s := ended[0]
	if s.Name() != "process "+subID {
		t.Fatalf("span %q, want %q", s.Name(), "process "+subID)
	}
	if s.Status().Code != codes.Error || s.Status().Description != want {
		t.Fatalf("status %v, want an error %q", s.Status(), want)
	}
	if settlement == "" {
		telemetrytest.NoAttr(t, s, "asynctrace.message.settlement")
	} else {
		telemetrytest.WantAttr(t, s, "asynctrace.message.settlement", settlement)
	}
	return s
}

// A handler that calls runtime.Goexit (as t.FailNow does) never returns;
// its span must still end, or it would never be exported.
func TestHandlerGoexitEndsSpan(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	h := pubsubtrace.WrapHandler(f.client.Subscriber(subName), func(context.Context, *pubsub.Message) {
		runtime.Goexit()
	}, tel.Options()...)
	runExiting(t, func() { h(context.Background(), &pubsub.Message{ID: "m1", Data: []byte("x")}) })
	// The span ends in the handler's goroutine, which has ended.
	wantAborted(t, tel, exitedStatus, "")
}

// A panicking handler still ends its span, with the panic as the error, and
// the panic goes on to the caller.
func TestHandlerPanicEndsSpan(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	h := pubsubtrace.WrapHandler(f.client.Subscriber(subName), func(context.Context, *pubsub.Message) {
		panic("kaput")
	}, tel.Options()...)
	runPanicking(t, func() { h(context.Background(), &pubsub.Message{ID: "m1", Data: []byte("x")}) })
	wantAborted(t, tel, panickedStatus, "")
}

func pushRequest() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(pushEnvelope(nil)))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestPushHandlerGoexitEndsSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		runtime.Goexit()
		return nil
	}, tel.Options()...)
	runExiting(t, func() { h.ServeHTTP(httptest.NewRecorder(), pushRequest()) })
	// Pub/Sub gets no answer and delivers the message again.
	wantAborted(t, tel, exitedStatus, "nack")
}

func TestPushHandlerPanicEndsSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		panic("kaput")
	}, tel.Options()...)
	runPanicking(t, func() { h.ServeHTTP(httptest.NewRecorder(), pushRequest()) })
	wantAborted(t, tel, panickedStatus, "nack")
}
