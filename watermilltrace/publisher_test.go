package watermilltrace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestPublishStartsOneSendSpanPerMessage(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{OutputChannelBuffer: 10})
	received, err := g.Subscribe(context.Background(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	pub := watermilltrace.WrapPublisher(g, tel.Options()...)

	var msgs []*message.Message
	var parents []trace.Span
	var callerMaps []message.Metadata
	for i := range 3 {
		ctx, parent := tel.Root(context.Background(), fmt.Sprintf("request %d", i))
		m := message.NewMessageWithContext(ctx, watermill.NewUUID(), message.Payload("order"))
		m.Metadata.Set("tenant", "acme")
		msgs = append(msgs, m)
		parents = append(parents, parent)
		callerMaps = append(callerMaps, m.Metadata)
	}
	if err := pub.Publish("orders", msgs...); err != nil {
		t.Fatal(err)
	}
	for _, p := range parents {
		p.End()
	}

	sends := tel.WaitEnded(t, "send orders", 3)
	if len(sends) != 3 {
		t.Fatalf("%d send spans, want 3", len(sends))
	}
	byID := map[string]int{}
	for i, m := range msgs {
		byID[m.UUID] = i
	}
	for _, s := range sends {
		i, ok := byID[telemetrytest.AttrString(s, "messaging.message.id")]
		if !ok {
			t.Fatalf("send span with messaging.message.id %s matches no message", telemetrytest.AttrString(s, "messaging.message.id"))
		}
		delete(byID, telemetrytest.AttrString(s, "messaging.message.id"))
		if s.SpanKind() != trace.SpanKindProducer {
			t.Errorf("kind %v, want producer", s.SpanKind())
		}
		if s.Parent().SpanID() != parents[i].SpanContext().SpanID() {
			t.Errorf("message %d: send span's parent is not the message context's span", i)
		}
		for k, want := range map[attribute.Key]string{
			"messaging.system":           "watermill",
			"messaging.destination.name": "orders",
			"messaging.operation.type":   "send",
			"messaging.operation.name":   "send",
		} {
			if got := telemetrytest.AttrString(s, k); got != want {
				t.Errorf("%s = %s, want %s", k, got, want)
			}
		}
		// The metadata carries this span, and nothing was written into
		// the map the caller built.
		sc := trace.SpanContextFromContext(telemetrytest.W3C.Extract(context.Background(), propagation.MapCarrier(msgs[i].Metadata)))
		if sc.SpanID() != s.SpanContext().SpanID() {
			t.Errorf("message %d metadata carries span %s, want its send span %s", i, sc.SpanID(), s.SpanContext().SpanID())
		}
		if msgs[i].Metadata.Get("tenant") != "acme" {
			t.Errorf("message %d lost its own metadata: %v", i, msgs[i].Metadata)
		}
		if _, written := callerMaps[i]["traceparent"]; written {
			t.Errorf("message %d: traceparent written into the caller's map", i)
		}
	}

	// The copies GoChannel delivers (context dropped) carry each its own
	// send span.
	for range 3 {
		got := telemetrytest.Recv(t, received, "message")
		got.Ack()
		sc := trace.SpanContextFromContext(telemetrytest.W3C.Extract(context.Background(), propagation.MapCarrier(got.Metadata)))
		i := -1
		for j, m := range msgs {
			if m.UUID == got.UUID {
				i = j
			}
		}
		if i < 0 || sc.TraceID() != parents[i].SpanContext().TraceID() {
			t.Errorf("delivered message %s does not carry its producer's trace", got.UUID)
		}
	}
}

func TestPublishErrorIsRecordedOnEveryMessagesSpan(t *testing.T) {
	tel := telemetrytest.New(t)
	fp := &failingPublisher{}
	pub := watermilltrace.WrapPublisher(fp, tel.Options()...)

	err := pub.Publish("payments",
		message.NewMessage("a", nil), message.NewMessage("b", nil))
	if !errors.Is(err, errBrokerDown) {
		t.Fatalf("Publish returned %v, want the wrapped publisher's error", err)
	}
	if fp.calls != 1 {
		t.Errorf("wrapped Publish called %d times, want 1", fp.calls)
	}
	sends := tel.Ended("send payments")
	if len(sends) != 2 {
		t.Fatalf("%d send spans, want 2", len(sends))
	}
	for _, s := range sends {
		if s.Status().Code != codes.Error {
			t.Errorf("span %s: status %v, want error", telemetrytest.AttrString(s, "messaging.message.id"), s.Status())
		}
		if got := telemetrytest.AttrString(s, "error.type"); got != "*errors.errorString" {
			t.Errorf("error.type = %s", got)
		}
	}
}

func TestPublishWithNilMetadataAndNilMessage(t *testing.T) {
	tel := telemetrytest.New(t)
	var seen []*message.Message
	inner := watermilltest.PublishFunc(func(topic string, msgs ...*message.Message) error {
		seen = append(seen, msgs...)
		return nil
	})
	pub := watermilltrace.WrapPublisher(inner, tel.Options()...)
	m := &message.Message{UUID: "no-metadata"}
	if err := pub.Publish("t", m, nil); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != m || seen[1] != nil {
		t.Fatalf("wrapped publisher got %v, want the same two messages", seen)
	}
	if m.Metadata.Get("traceparent") == "" {
		t.Errorf("no traceparent injected into a message with nil metadata")
	}
	if n := len(tel.Ended("send t")); n != 1 {
		t.Errorf("%d send spans, want 1 (the nil message has none)", n)
	}
}

func TestPublisherDecoratorOnRouterPublisher(t *testing.T) {
	tel := telemetrytest.New(t)
	dec := watermilltrace.NewPublisherDecorator(tel.Options()...)
	fp := &failingPublisher{}
	pub, err := dec(fp)
	if err != nil {
		t.Fatal(err)
	}
	_ = pub.Publish("x", message.NewMessage("1", nil))
	if len(tel.Ended("send x")) != 1 {
		t.Errorf("decorated publisher made no send span")
	}
}

// The decorator reports a nil publisher as an error, not a panic: the
// router, not the program's author, hands it over.
func TestPublisherDecoratorReportsNilPublisher(t *testing.T) {
	if _, err := watermilltrace.NewPublisherDecorator()(nil); !errors.Is(err, watermilltrace.ErrNilPublisher) {
		t.Errorf("decorating nil: %v, want ErrNilPublisher", err)
	}
}

func TestPublishNeverWritesASharedMetadataMap(t *testing.T) {
	tel := telemetrytest.New(t)
	pub := watermilltrace.WrapPublisher(watermilltest.PublishFunc(func(string, ...*message.Message) error { return nil }), tel.Options()...)
	shared := message.Metadata{"tenant": "acme"}
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				ctx, span := tel.Root(context.Background(), "request")
				m := message.NewMessageWithContext(ctx, watermill.NewUUID(), nil)
				m.Metadata = shared // reused by every goroutine: read only
				if err := pub.Publish("shared", m); err != nil {
					t.Error(err)
				}
				span.End()
				if m.Metadata.Get("traceparent") == "" || m.Metadata.Get("tenant") != "acme" {
					t.Errorf("metadata after publish: %v", m.Metadata)
				}
			}
		}()
	}
	for range 8 {
		telemetrytest.Recv(t, done, "publishing goroutine")
	}
	if len(shared) != 1 {
		t.Errorf("shared map was written: %v", shared)
	}
}

func TestRepublishedCopyContinuesTraceFromMetadata(t *testing.T) {
	tel := telemetrytest.New(t)
	pub := watermilltrace.WrapPublisher(watermilltest.PublishFunc(func(string, ...*message.Message) error { return nil }), tel.Options()...)
	ctx, root := tel.Root(context.Background(), "request")
	orig := message.NewMessageWithContext(ctx, "o1", nil)
	if err := pub.Publish("first", orig); err != nil {
		t.Fatal(err)
	}
	root.End()
	// Copy drops the context; only the metadata remembers the trace.
	again := orig.Copy()
	if err := pub.Publish("second", again); err != nil {
		t.Fatal(err)
	}
	first := tel.Ended("send first")[0]
	second := tel.Ended("send second")[0]
	if second.Parent().SpanID() != first.SpanContext().SpanID() || second.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Errorf("send second: parent %s in trace %s, want send first %s in trace %s",
			second.Parent().SpanID(), second.SpanContext().TraceID(), first.SpanContext().SpanID(), root.SpanContext().TraceID())
	}
	// A message with a context of its own keeps it, whatever its metadata.
	ctx2, other := tel.Root(context.Background(), "other request")
	mine := orig.Copy()
	mine.SetContext(ctx2)
	if err := pub.Publish("third", mine); err != nil {
		t.Fatal(err)
	}
	other.End()
	if third := tel.Ended("send third")[0]; third.Parent().SpanID() != other.SpanContext().SpanID() {
		t.Errorf("send third: parent %s, want the message context's span %s", third.Parent().SpanID(), other.SpanContext().SpanID())
	}
}
