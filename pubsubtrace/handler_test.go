package pubsubtrace_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"go.opentelemetry.io/otel/baggage"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// waitAcked waits (bounded) until the server has seen an ack for id.
func waitAcked(t *testing.T, f *fake, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := f.srv.Message(id); m != nil && m.Acks > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s was never acked", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wrapWith(f *fake, opts ...asynctrace.Option) func(pubsubtrace.Handler) pubsubtrace.Handler {
	return func(h pubsubtrace.Handler) pubsubtrace.Handler {
		return pubsubtrace.WrapHandler(f.client.Subscriber(subName), h, opts...)
	}
}

func TestHandlerContinuesForeignTraceparent(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const spanID = "00f067aa0ba902b7"
	id := f.srv.Publish(topicName, []byte("from elsewhere"), map[string]string{
		"traceparent": "00-" + traceID + "-" + spanID + "-01",
		"baggage":     "origin=java",
	})

	var gotBaggage string
	f.receiveWith(t, 1, wrapWith(f, tel.Options()...), func(ctx context.Context, m *pubsub.Message) {
		gotBaggage = baggage.FromContext(ctx).Member("origin").Value()
		pubsubtrace.Ack(ctx, m)
	})
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	if p.SpanContext().TraceID().String() != traceID || p.Parent().SpanID().String() != spanID {
		t.Fatalf("process span trace %s parent %s, want %s/%s", p.SpanContext().TraceID(), p.Parent().SpanID(), traceID, spanID)
	}
	if !p.Parent().IsRemote() {
		t.Fatal("parent is not remote")
	}
	if gotBaggage != "java" {
		t.Fatalf("baggage = %q", gotBaggage)
	}
	if v, _ := telemetrytest.Attr(p, semconv.MessagingMessageIDKey); v.AsString() != id {
		t.Fatalf("message id = %q, want %q", v.AsString(), id)
	}
	waitAcked(t, f, id)
}

func TestHandlerIgnoresMalformedAndOversizedContext(t *testing.T) {
	cases := map[string]map[string]string{
		"garbage traceparent":   {"traceparent": "not-a-traceparent", "tracestate": "@@@", "baggage": "%%%;;;"},
		"zero trace id":         {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
		"oversized traceparent": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" + strings.Repeat("x", 20000)},
		"oversized baggage":     {"baggage": strings.Repeat("k=v,", 5000)},
		"garbage googclient":    {"googclient_traceparent": "00-xyz-garbage-01", "googclient_tracestate": "==="},
	}
	for name, attrs := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, nil)
			tel := telemetrytest.New(t)
			id := f.srv.Publish(topicName, []byte("payload"), attrs)
			var handled bool
			f.receiveWith(t, 1, wrapWith(f, tel.Options()...), func(ctx context.Context, m *pubsub.Message) {
				handled = string(m.Data) == "payload"
				pubsubtrace.Ack(ctx, m)
			})
			if !handled {
				t.Fatal("handler did not see the message")
			}
			p := tel.WaitEnded(t, "process "+subID, 1)[0]
			if p.Parent().IsValid() {
				t.Fatalf("process span has parent %v from malformed context", p.Parent())
			}
			waitAcked(t, f, id)
		})
	}
}

func TestHandlerRecordsNackAndDeliveryAttempt(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	ctx := context.Background()
	const dlqName = "projects/" + project + "/topics/dead-letters"
	const dlSubName = "projects/" + project + "/subscriptions/with-dlq"
	if _, err := f.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: dlqName}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: dlSubName, Topic: topicName, AckDeadlineSeconds: 10,
		DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{DeadLetterTopic: dlqName, MaxDeliveryAttempts: 5},
	}); err != nil {
		t.Fatal(err)
	}
	f.srv.PublishOrdered(topicName, []byte("x"), nil, "key-1")

	sub := f.client.Subscriber(dlSubName)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	deliveries := 0
	err := sub.Receive(rctx, pubsubtrace.WrapHandler(sub, func(ctx context.Context, m *pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		deliveries++
		if deliveries == 1 {
			pubsubtrace.Nack(ctx, m)
			return
		}
		pubsubtrace.Ack(ctx, m)
		cancel()
	}, tel.Options()...))
	if err != nil {
		t.Fatal(err)
	}
	spans := tel.WaitEnded(t, "process with-dlq", 2)
	for i, s := range spans[:2] {
		wantSettle := []string{"nack", "ack"}[i]
		if v, _ := telemetrytest.Attr(s, "asynctrace.message.settlement"); v.AsString() != wantSettle {
			t.Errorf("delivery %d settlement = %q, want %q", i+1, v.AsString(), wantSettle)
		}
		if v, _ := telemetrytest.Attr(s, semconv.MessagingGCPPubSubMessageDeliveryAttemptKey); v.AsInt64() != int64(i+1) {
			t.Errorf("delivery %d delivery_attempt = %d", i+1, v.AsInt64())
		}
		if v, _ := telemetrytest.Attr(s, semconv.MessagingGCPPubSubMessageOrderingKeyKey); v.AsString() != "key-1" {
			t.Errorf("delivery %d ordering key = %q", i+1, v.AsString())
		}
	}
}

func TestHandlerWithoutSettleHelpersRecordsNone(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	id := f.srv.Publish(topicName, []byte("x"), nil)
	f.receiveWith(t, 1, wrapWith(f, tel.Options()...), func(_ context.Context, m *pubsub.Message) {
		m.Ack()
	})
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	// Without Ack or Nack of this package the settlement is unknown and
	// not recorded.
	if v, ok := telemetrytest.Attr(p, "asynctrace.message.settlement"); ok {
		t.Fatalf("settlement = %q, want none recorded", v.AsString())
	}
	waitAcked(t, f, id)
}

func TestHandlerLinkToProducer(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	if _, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}).Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub.Stop()
	f.receiveWith(t, 1, wrapWith(f, tel.Options(asynctrace.WithLinkToProducer())...), func(ctx context.Context, m *pubsub.Message) {
		pubsubtrace.Ack(ctx, m)
	})
	send := tel.WaitEnded(t, "send "+topicID, 1)[0]
	p := tel.WaitEnded(t, "process "+subID, 1)[0]
	if p.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Fatal("with WithLinkToProducer the process span continued the producer's trace")
	}
	if !telemetrytest.HasLinkTo(p, send.SpanContext()) {
		t.Fatal("process span has no link to the send span")
	}
}

// The attribute limit: a message that already has 99 attributes has room
// for the traceparent only; the baggage is dropped, the publish succeeds.
func TestPublishKeepsAttributeLimit(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	attrs := map[string]string{}
	for i := range 99 {
		attrs["user-"+strings.Repeat("a", i%7)+string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
	}
	if len(attrs) != 99 {
		t.Fatalf("built %d attributes", len(attrs))
	}
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, span := tel.TracerProvider.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), bag), "request")
	defer span.End()
	id, err := pub.Publish(ctx, &pubsub.Message{Data: []byte("x"), Attributes: attrs}).Get(ctx)
	if err != nil {
		t.Fatalf("publish with 99 attributes failed: %v", err)
	}
	pub.Stop()
	if len(attrs) != 99 {
		t.Fatal("caller's map changed")
	}
	stored := f.srv.Message(id).Attributes
	if len(stored) != 100 || stored["traceparent"] == "" {
		t.Fatalf("stored %d attributes (traceparent %q), want 100 with traceparent", len(stored), stored["traceparent"])
	}
	if _, ok := stored["baggage"]; ok {
		t.Fatal("baggage written past the attribute limit")
	}
	if trace.SpanContextFromContext(ctx).TraceID().String() != stored["traceparent"][3:35] {
		t.Fatal("traceparent is not the caller's trace")
	}
}
