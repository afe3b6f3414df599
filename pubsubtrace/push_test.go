package pubsubtrace_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

const (
	pushTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	pushSpanID  = "00f067aa0ba902b7"
)

func pushEnvelope(attrs map[string]string) string {
	env := map[string]any{
		"message": map[string]any{
			"data":        base64.StdEncoding.EncodeToString([]byte("pushed payload")),
			"attributes":  attrs,
			"messageId":   "136969346945",
			"message_id":  "136969346945",
			"publishTime": "2026-11-22T10:00:00.123Z",
			"orderingKey": "k1",
		},
		"subscription":    subName,
		"deliveryAttempt": 3,
	}
	b, _ := json.Marshal(env)
	return string(b)
}

type pushResult struct {
	status int
	body   string
}

func post(t *testing.T, url, contentType, body string) pushResult {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pushResult{resp.StatusCode, string(b)}
}

func TestPushHandlerRoundTrip(t *testing.T) {
	tel := telemetrytest.New(t)
	var got *pubsubtrace.PushMessage
	var gotBaggage string
	var handlerSpan trace.SpanContext
	h := pubsubtrace.NewPushHandler(func(ctx context.Context, m *pubsubtrace.PushMessage) error {
		got = m
		gotBaggage = baggage.FromContext(ctx).Member("tenant").Value()
		handlerSpan = trace.SpanContextFromContext(ctx)
		return nil
	}, tel.Options()...)
	srv := httptest.NewServer(h)
	defer srv.Close()

	res := post(t, srv.URL, "application/json", pushEnvelope(map[string]string{
		"traceparent": "00-" + pushTraceID + "-" + pushSpanID + "-01",
		"baggage":     "tenant=acme",
		"kind":        "order",
	}))
	if res.status != http.StatusNoContent {
		t.Fatalf("status %d %q, want 204", res.status, res.body)
	}
	if got == nil || string(got.Data) != "pushed payload" || got.ID != "136969346945" || got.OrderingKey != "k1" ||
		got.DeliveryAttempt != 3 || got.Subscription != subName || got.Attributes["kind"] != "order" {
		t.Fatalf("decoded message %+v", got)
	}
	if want := time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC); !got.PublishTime.Equal(want) {
		t.Fatalf("publish time %v, want %v", got.PublishTime, want)
	}
	if gotBaggage != "acme" {
		t.Fatalf("baggage %q", gotBaggage)
	}
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	if p.SpanKind() != trace.SpanKindConsumer {
		t.Fatalf("kind %v", p.SpanKind())
	}
	if p.SpanContext().TraceID().String() != pushTraceID || p.Parent().SpanID().String() != pushSpanID {
		t.Fatalf("process span not a child of the pushed traceparent: trace %s parent %s", p.SpanContext().TraceID(), p.Parent().SpanID())
	}
	if handlerSpan.SpanID() != p.SpanContext().SpanID() {
		t.Fatal("handler ctx does not carry the process span")
	}
	want := map[string]string{
		"messaging.system":                          "gcp_pubsub",
		"messaging.destination.name":                subID,
		"messaging.destination.subscription.name":   subID,
		"messaging.message.id":                      "136969346945",
		"messaging.gcp_pubsub.message.ordering_key": "k1",
		"gcp.project_id":                            project,
		"asynctrace.message.settlement":             "ack",
	}
	for k, v := range want {
		if a, _ := telemetrytest.Attr(p, attribute.Key(k)); a.AsString() != v {
			t.Errorf("%s = %q, want %q", k, a.AsString(), v)
		}
	}
	if a, _ := telemetrytest.Attr(p, semconv.MessagingGCPPubSubMessageDeliveryAttemptKey); a.AsInt64() != 3 {
		t.Errorf("delivery attempt %d", a.AsInt64())
	}
}

func TestPushHandlerErrorAsks500(t *testing.T) {
	tel := telemetrytest.New(t)
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		return errors.New("database down")
	}, tel.Options()...)
	srv := httptest.NewServer(h)
	defer srv.Close()
	res := post(t, srv.URL, "application/json", pushEnvelope(nil))
	if res.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", res.status)
	}
	if strings.Contains(res.body, "database down") {
		t.Fatal("the handler's error leaked into the response")
	}
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	if p.Status().Code != codes.Error || p.Status().Description != "database down" {
		t.Fatalf("status %v", p.Status())
	}
	if a, _ := telemetrytest.Attr(p, "asynctrace.message.settlement"); a.AsString() != "nack" {
		t.Fatalf("settlement %q", a.AsString())
	}
	if p.Parent().IsValid() {
		t.Fatal("a message without trace context got a parent")
	}
}

func TestPushHandlerRejectsBadRequests(t *testing.T) {
	tel := telemetrytest.New(t)
	called := false
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		called = true
		return nil
	}, tel.Options(pubsubtrace.WithMaxPushBodyBytes(4096))...)
	srv := httptest.NewServer(h)
	defer srv.Close()

	cases := []struct {
		name   string
		body   string
		status int
		reason string
	}{
		{"empty body", "", 400, "empty body"},
		{"not json", "hello", 400, "not a Pub/Sub push envelope"},
		{"json array", "[1,2]", 400, "not a Pub/Sub push envelope"},
		{"trailing data", `{"message":{},"subscription":"` + subName + `"} {}`, 400, "data after"},
		{"no message", `{"subscription":"` + subName + `"}`, 400, `no "message"`},
		{"null message", `{"message":null,"subscription":"` + subName + `"}`, 400, `no "message"`},
		{"no subscription", `{"message":{"data":"aGk="}}`, 400, "not a subscription name"},
		{"bad subscription", `{"message":{},"subscription":"projects/p/topics/t"}`, 400, "not a subscription name"},
		{"bad base64", `{"message":{"data":"!!!"},"subscription":"` + subName + `"}`, 400, "not a Pub/Sub push envelope"},
		{"bad attributes", `{"message":{"attributes":{"a":1}},"subscription":"` + subName + `"}`, 400, "not a Pub/Sub push envelope"},
		{"bad publish time", `{"message":{"publishTime":"yesterday"},"subscription":"` + subName + `"}`, 400, "publishTime"},
		{"too large", `{"message":{"data":"` + strings.Repeat("A", 8192) + `"},"subscription":"` + subName + `"}`, 413, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, srv.URL, "application/json", c.body)
			if res.status != c.status || !strings.Contains(res.body, c.reason) {
				t.Fatalf("got %d %q, want %d containing %q", res.status, res.body, c.status, c.reason)
			}
		})
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d", resp.StatusCode)
	}
	if called {
		t.Fatal("the handler ran for a bad request")
	}
	if n := len(tel.Recorder.Ended()); n != 0 {
		t.Fatalf("%d spans for bad requests", n)
	}
}

// Oversized and malformed context in a pushed message is ignored; the
// message is still handled.
func TestPushHandlerIgnoresMalformedContext(t *testing.T) {
	tel := telemetrytest.New(t)
	handled := 0
	h := pubsubtrace.NewPushHandler(func(context.Context, *pubsubtrace.PushMessage) error {
		handled++
		return nil
	}, tel.Options()...)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, attrs := range []map[string]string{
		{"traceparent": "garbage", "baggage": ";;;=="},
		{"traceparent": "00-" + pushTraceID + "-" + pushSpanID + "-01" + strings.Repeat("0", 10000)},
	} {
		var buf bytes.Buffer
		buf.WriteString(pushEnvelope(attrs))
		if res := post(t, srv.URL, "application/json", buf.String()); res.status != http.StatusNoContent {
			t.Fatalf("status %d %q", res.status, res.body)
		}
	}
	if handled != 2 {
		t.Fatalf("handled %d", handled)
	}
	for _, s := range tel.WaitEnded(t, "process "+subID, 2) {
		if s.Parent().IsValid() {
			t.Fatal("malformed context became a parent")
		}
	}
}
