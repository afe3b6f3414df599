package pubsubtrace_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

func TestPublishReceiveOneTrace(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)

	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, parent := tel.TracerProvider.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), bag), "request")
	attrs := map[string]string{"kind": "order"}
	before := maps.Clone(attrs)
	msg := &pubsub.Message{Data: []byte("hello"), Attributes: attrs}
	id, err := pub.Publish(ctx, msg).Get(ctx)
	parent.End()
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	pub.Stop()

	if !maps.Equal(attrs, before) || !maps.Equal(msg.Attributes, before) {
		t.Fatalf("caller's attributes changed: %v (message now holds %v)", attrs, msg.Attributes)
	}
	stored := f.srv.Message(id)
	if stored == nil {
		t.Fatalf("message %s not on the server", id)
	}
	if stored.Attributes["kind"] != "order" || stored.Attributes["traceparent"] == "" || stored.Attributes["baggage"] == "" {
		t.Fatalf("stored attributes = %v, want kind, traceparent and baggage", stored.Attributes)
	}
	if _, ok := stored.Attributes["googclient_traceparent"]; ok {
		t.Fatalf("googclient_traceparent written without WithGoogleClientKeys: %v", stored.Attributes)
	}

	var gotBaggage string
	var handlerSpan trace.SpanContext
	f.receiveWith(t, 1, func(h pubsubtrace.Handler) pubsubtrace.Handler {
		return pubsubtrace.WrapHandler(f.client.Subscriber(subName), h, tel.Options()...)
	}, func(ctx context.Context, m *pubsub.Message) {
		gotBaggage = baggage.FromContext(ctx).Member("tenant").Value()
		handlerSpan = trace.SpanContextFromContext(ctx)
		pubsubtrace.Ack(ctx, m)
	})

	sends := tel.WaitEnded(t, "send "+topicID, 1)
	procs := tel.WaitEnded(t, "process "+subID, 1)
	send, proc := sends[0], procs[0]
	if send.SpanKind() != trace.SpanKindProducer || proc.SpanKind() != trace.SpanKindConsumer {
		t.Fatalf("kinds = %v, %v", send.SpanKind(), proc.SpanKind())
	}
	if send.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("send span's parent is not the caller's span")
	}
	if proc.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Fatalf("process span in trace %s, want %s", proc.SpanContext().TraceID(), parent.SpanContext().TraceID())
	}
	if proc.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Fatalf("process span's parent = %s, want the send span %s", proc.Parent().SpanID(), send.SpanContext().SpanID())
	}
	if handlerSpan.SpanID() != proc.SpanContext().SpanID() {
		t.Fatalf("handler ctx does not carry the process span")
	}
	if gotBaggage != "acme" {
		t.Fatalf("baggage tenant = %q, want acme", gotBaggage)
	}

	wantSend := map[string]string{
		"messaging.system":           "gcp_pubsub",
		"messaging.destination.name": topicID,
		"messaging.operation.type":   "send",
		"messaging.message.id":       id,
		"gcp.project_id":             project,
	}
	for k, v := range wantSend {
		if got, _ := telemetrytest.Attr(send, attribute.Key(k)); got.AsString() != v {
			t.Errorf("send %s = %q, want %q", k, got.AsString(), v)
		}
	}
	wantProc := map[string]string{
		"messaging.system":                        "gcp_pubsub",
		"messaging.destination.name":              subID,
		"messaging.destination.subscription.name": subID,
		"messaging.operation.type":                "process",
		"messaging.message.id":                    id,
		"gcp.project_id":                          project,
		"asynctrace.message.settlement":           "ack",
	}
	for k, v := range wantProc {
		if got, _ := telemetrytest.Attr(proc, attribute.Key(k)); got.AsString() != v {
			t.Errorf("process %s = %q, want %q", k, got.AsString(), v)
		}
	}
	if _, ok := telemetrytest.Attr(proc, semconv.MessagingGCPPubSubMessageOrderingKeyKey); ok {
		t.Errorf("ordering key recorded for a message without one")
	}
}

func TestPublishSpanEndsWithoutGet(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	defer pub.Stop()

	const n = 50
	for i := range n {
		// The results are dropped on purpose: nobody calls Get.
		pub.Publish(context.Background(), &pubsub.Message{Data: []byte{byte(i)}})
	}
	sends := tel.WaitEnded(t, "send "+topicID, n)
	ids := map[string]bool{}
	for _, s := range sends {
		v, ok := telemetrytest.Attr(s, semconv.MessagingMessageIDKey)
		if !ok || v.AsString() == "" {
			t.Fatalf("send span without message id")
		}
		if s.Status().Code == codes.Error {
			t.Fatalf("send span failed: %v", s.Status())
		}
		ids[v.AsString()] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct message ids, want %d", len(ids), n)
	}
	for _, m := range f.srv.Messages() {
		if !ids[m.ID] {
			t.Fatalf("server has message %s that no span names", m.ID)
		}
	}
}

func TestPublishEndTimeIsCompletionTime(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	// Hold messages in the client for a while so the publish clearly ends
	// after Publish returns.
	raw.PublishSettings.DelayThreshold = 300 * time.Millisecond
	raw.PublishSettings.CountThreshold = 1000
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	defer pub.Stop()

	start := time.Now()
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")})
	<-res.Ready()
	ready := time.Now()
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if s.EndTime().Before(start.Add(250 * time.Millisecond)) {
		t.Fatalf("span ended %v after Publish, before the publish completed (%v)", s.EndTime().Sub(start), ready.Sub(start))
	}
	if s.EndTime().After(ready.Add(2 * time.Second)) {
		t.Fatalf("span ended %v after the result was ready", s.EndTime().Sub(ready))
	}
}

func TestPublishErrorEndsSpan(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	defer pub.Stop()

	// Ordering keys need EnableMessageOrdering; the client fails the
	// publish at once.
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x"), OrderingKey: "k"})
	if _, err := res.Get(context.Background()); err == nil {
		t.Fatal("publish with an ordering key succeeded without message ordering")
	}
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if s.Status().Code != codes.Error {
		t.Fatalf("status = %v, want error", s.Status())
	}
	if v, _ := telemetrytest.Attr(s, semconv.ErrorTypeKey); v.AsString() == "" {
		t.Fatal("no error.type")
	}
	if v, _ := telemetrytest.Attr(s, semconv.MessagingGCPPubSubMessageOrderingKeyKey); v.AsString() != "k" {
		t.Fatalf("ordering key = %q", v.AsString())
	}
}

func TestPublishOrderingKeyRecorded(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	raw.EnableMessageOrdering = true
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x"), OrderingKey: "customer-7"})
	if _, err := res.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub.Stop()
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if v, _ := telemetrytest.Attr(s, semconv.MessagingGCPPubSubMessageOrderingKeyKey); v.AsString() != "customer-7" {
		t.Fatalf("ordering key = %q", v.AsString())
	}
}

func TestPublishAfterStop(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	pub.Stop()
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")})
	if _, err := res.Get(context.Background()); !errors.Is(err, pubsub.ErrPublisherStopped) {
		t.Fatalf("err = %v, want ErrPublisherStopped", err)
	}
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if s.Status().Code != codes.Error {
		t.Fatalf("status = %v", s.Status())
	}
	pub.Stop() // a second Stop is harmless
}

func TestShutdownEndsOutstandingSpans(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	raw.PublishSettings.DelayThreshold = time.Hour
	raw.PublishSettings.CountThreshold = 1000
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	const n = 20
	results := make([]*pubsub.PublishResult, n)
	for i := range n {
		results[i] = pub.Publish(context.Background(), &pubsub.Message{Data: []byte{byte(i)}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Shutdown flushes the held messages: every span ends with its id.
	if err := pub.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, r := range results {
		select {
		case <-r.Ready():
		default:
			t.Fatal("a result is not ready after Shutdown")
		}
	}
	sends := tel.Ended("send " + topicID)
	if len(sends) != n {
		t.Fatalf("%d send spans ended at Shutdown, want %d", len(sends), n)
	}
	for _, s := range sends {
		if v, _ := telemetrytest.Attr(s, semconv.MessagingMessageIDKey); v.AsString() == "" {
			t.Fatal("a send span has no message id")
		}
	}
}

func TestShutdownAbandonsWhenContextEnds(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	// The server answers nothing until released, so the publish hangs.
	f.srv.SetAutoPublishResponse(false)
	raw.PublishSettings.Timeout = 3 * time.Second
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := pub.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("shutdown took %v", time.Since(start))
	}
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if len(s.Events()) == 0 || s.Status().Code != codes.Error {
		t.Fatalf("abandoned span: status %v events %d", s.Status(), len(s.Events()))
	}
	if v, _ := telemetrytest.Attr(s, semconv.ErrorTypeKey); v.AsString() == "" {
		t.Fatal("no error.type on the abandoned span")
	}
	// Release the server's held publish so that the client's and the
	// server's goroutines end before the leak check.
	f.srv.AddPublishResponse(&pubsubpb.PublishResponse{MessageIds: []string{"late"}}, nil)
	<-res.Ready()
	f.srv.SetAutoPublishResponse(true)
	pub.Stop()
}

// Many results outstanding at once: the watcher waits on a window of them
// and sweeps the rest, and every span still ends without Get or Stop.
func TestPublishManyOutstanding(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	raw.PublishSettings.DelayThreshold = time.Hour
	raw.PublishSettings.CountThreshold = 1000
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	defer pub.Stop()
	const n = 600
	for i := range n {
		pub.Publish(context.Background(), &pubsub.Message{Data: []byte{byte(i)}})
	}
	if got := len(tel.Ended("send " + topicID)); got != 0 {
		t.Fatalf("%d spans ended before the messages were sent", got)
	}
	pub.Flush()
	sends := tel.WaitEnded(t, "send "+topicID, n)
	if len(sends) != n {
		t.Fatalf("%d spans ended, want %d", len(sends), n)
	}
	for _, s := range sends {
		if v, _ := telemetrytest.Attr(s, semconv.MessagingMessageIDKey); v.AsString() == "" {
			t.Fatal("a send span has no message id")
		}
	}
}

// One attribute map shared by concurrent publishes is only read, never
// written (the race detector checks), and every message carries its own
// span's context.
func TestPublishConcurrentSharedAttributes(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	pub := pubsubtrace.WrapPublisher(f.publisher(), tel.Options()...)
	shared := map[string]string{"tenant": "acme"}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	ids := make(chan string, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ctx, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "work")
				id, err := pub.Publish(ctx, &pubsub.Message{Data: []byte("x"), Attributes: shared}).Get(ctx)
				span.End()
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	pub.Stop()
	if len(shared) != 1 {
		t.Fatalf("shared map changed: %v", shared)
	}
	parents := map[string]bool{}
	for id := range ids {
		tp := f.srv.Message(id).Attributes["traceparent"]
		if tp == "" || parents[tp] {
			t.Fatalf("message %s has traceparent %q (empty or reused)", id, tp)
		}
		parents[tp] = true
	}
	if len(parents) != workers*each {
		t.Fatalf("%d messages, want %d", len(parents), workers*each)
	}
}

// Shutdown is bounded by its context even when a Stop is already under way,
// in which case the wrapped publisher's Stop returns at once while the
// publishes are still in flight.
func TestShutdownBoundedDuringStop(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	// The server answers nothing until released, so the publish hangs.
	f.srv.SetAutoPublishResponse(false)
	raw.PublishSettings.Timeout = 10 * time.Second
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	res := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")})

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		pub.Stop()
	}()
	// Give that Stop time to mark the publisher stopped; it then waits on
	// the held publish.
	time.Sleep(100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := pub.Shutdown(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Shutdown took %v with a 200ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown = %v, want deadline exceeded", err)
	}
	s := tel.WaitEnded(t, "send "+topicID, 1)[0]
	if s.Status().Code != codes.Error {
		t.Errorf("abandoned span: status %v", s.Status())
	}

	f.srv.AddPublishResponse(&pubsubpb.PublishResponse{MessageIds: []string{"late"}}, nil)
	<-res.Ready()
	f.srv.SetAutoPublishResponse(true)
	<-stopped
}
