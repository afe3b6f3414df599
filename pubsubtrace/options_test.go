package pubsubtrace_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

func noopHandler(context.Context, *pubsub.Message) {}

func noopPush(context.Context, *pubsubtrace.PushMessage) error { return nil }

func TestConstructorsPanicOnNil(t *testing.T) {
	f := newFake(t, nil)
	sub := f.client.Subscriber(subName)
	telemetrytest.WantPanic(t, "pubsubtrace.WrapPublisher: publisher is nil", func() { pubsubtrace.WrapPublisher(nil) })
	telemetrytest.WantPanic(t, "pubsubtrace.WrapHandler: subscriber is nil", func() { pubsubtrace.WrapHandler(nil, noopHandler) })
	telemetrytest.WantPanic(t, "pubsubtrace.WrapHandler: handler is nil", func() { pubsubtrace.WrapHandler(sub, nil) })
	telemetrytest.WantPanic(t, "pubsubtrace.NewPushHandler: handler is nil", func() { pubsubtrace.NewPushHandler(nil) })
}

func TestWithMaxPushBodyBytesPanicsBelowOne(t *testing.T) {
	for _, n := range []int64{0, -1} {
		telemetrytest.WantPanic(t, fmt.Sprintf("pubsubtrace.WithMaxPushBodyBytes: n must be at least 1, got %d", n), func() {
			pubsubtrace.WithMaxPushBodyBytes(n)
		})
	}
}

// An option of another adapter is a mistake caught where it is made.
func TestConstructorsRejectOtherAdaptersOptions(t *testing.T) {
	f := newFake(t, nil)
	sub := f.client.Subscriber(subName)
	const tail = ": option httptrace.WithoutTraceResponse belongs to package httptrace and does not apply here"
	foreign := httptrace.WithoutTraceResponse()
	telemetrytest.WantPanic(t, "pubsubtrace.WrapPublisher"+tail, func() { pubsubtrace.WrapPublisher(f.publisher(), foreign) })
	telemetrytest.WantPanic(t, "pubsubtrace.WrapHandler"+tail, func() { pubsubtrace.WrapHandler(sub, noopHandler, foreign) })
	telemetrytest.WantPanic(t, "pubsubtrace.NewPushHandler"+tail, func() { pubsubtrace.NewPushHandler(noopPush, foreign) })

	// This package's options go to every constructor of it, even where
	// they have no effect.
	own := []asynctrace.Option{pubsubtrace.WithGoogleClientKeys(), pubsubtrace.WithMaxPushBodyBytes(1)}
	pubsubtrace.WrapPublisher(f.publisher(), own...).Stop()
	pubsubtrace.WrapHandler(sub, noopHandler, own...)
	pubsubtrace.NewPushHandler(noopPush, own...)
}

// Nil options are skipped; the ones around them still apply.
func TestNilOptionsIgnored(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	opts := append([]asynctrace.Option{nil}, tel.Options(nil, pubsubtrace.WithGoogleClientKeys(), nil)...)

	pub := pubsubtrace.WrapPublisher(f.publisher(), opts...)
	id, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background())
	pub.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if f.srv.Message(id).Attributes["googclient_traceparent"] == "" {
		t.Fatalf("the option after a nil one was not applied: %v", f.srv.Message(id).Attributes)
	}
	f.receiveWith(t, 1, wrapWith(f, opts...), func(ctx context.Context, m *pubsub.Message) { pubsubtrace.Ack(ctx, m) })
	srv := httptest.NewServer(pubsubtrace.NewPushHandler(noopPush, opts...))
	defer srv.Close()
	if res := post(t, srv.URL, "application/json", pushEnvelope(nil)); res.status != http.StatusNoContent {
		t.Fatalf("push: %d %q", res.status, res.body)
	}
	tel.One(t, "send "+topicID)
	tel.WaitEnded(t, "process "+subID, 2)
}

// WithGoogleClientKeys writes the send span's context under the built-in
// tracing's keys as well as under the plain ones.
func TestWithGoogleClientKeys(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options(pubsubtrace.WithGoogleClientKeys())...)
	id, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background())
	pub.Stop()
	if err != nil {
		t.Fatal(err)
	}
	send := tel.One(t, "send "+topicID)
	stored := f.srv.Message(id).Attributes
	want := "00-" + send.SpanContext().TraceID().String() + "-" + send.SpanContext().SpanID().String() + "-01"
	if stored["traceparent"] != want || stored["googclient_traceparent"] != want {
		t.Fatalf("traceparent %q, googclient_traceparent %q, want both %q", stored["traceparent"], stored["googclient_traceparent"], want)
	}
}

// The push body limit is exact: a body of the limit is served, one byte
// more gets 413 and never reaches the handler. The default is large enough
// for a message of Pub/Sub's own 10 MB limit.
func TestWithMaxPushBodyBytes(t *testing.T) {
	body := pushEnvelope(map[string]string{"pad": strings.Repeat("p", 1000)})
	n := int64(len(body))
	cases := []struct {
		name   string
		opts   []asynctrace.Option
		status int
	}{
		{"default", nil, http.StatusNoContent},
		{"at the limit", []asynctrace.Option{pubsubtrace.WithMaxPushBodyBytes(n)}, http.StatusNoContent},
		{"one byte over", []asynctrace.Option{pubsubtrace.WithMaxPushBodyBytes(n - 1)}, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			handled := 0
			srv := httptest.NewServer(pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
				handled++
				return nil
			}, tel.Options(c.opts...)...))
			defer srv.Close()
			res := post(t, srv.URL, "application/json", body)
			if res.status != c.status {
				t.Fatalf("status %d %q, want %d", res.status, res.body, c.status)
			}
			wantHandled := 0
			if c.status == http.StatusNoContent {
				wantHandled = 1
			}
			if handled != wantHandled {
				t.Fatalf("handled %d, want %d", handled, wantHandled)
			}
			if got := len(tel.Recorder.Ended()); got != wantHandled {
				t.Fatalf("%d spans, want %d", got, wantHandled)
			}
		})
	}
	if pubsubtrace.DefaultMaxPushBodyBytes < 10<<20*4/3 {
		t.Fatalf("DefaultMaxPushBodyBytes = %d, too small for a base64-encoded 10 MB message", pubsubtrace.DefaultMaxPushBodyBytes)
	}
}
