package pulsartrace

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

func TestSendStartsChildSpanAndInjectsIntoCopy(t *testing.T) {
	tel := telemetrytest.New(t)
	fp := &fakeProducer{topic: "persistent://public/default/orders"}
	p := WrapProducer(fp, tel.Options(WithServiceURL("pulsar://broker.example:6650"))...)

	ctx, parent := tel.Root(context.Background(), "request")
	userProps := map[string]string{"k": "v"}
	msg := &pulsar.ProducerMessage{Payload: []byte("hello"), Properties: userProps, Key: "key-1"}
	id, err := p.Send(ctx, msg)
	parent.End()
	if err != nil {
		t.Fatal(err)
	}

	if len(userProps) != 1 || userProps["k"] != "v" {
		t.Errorf("caller's properties were written: %v", userProps)
	}
	if !messaging.SameMap(msg.Properties, userProps) || msg.Key != "key-1" {
		t.Errorf("caller's message was written: %+v", msg)
	}
	sent := fp.messages()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(sent))
	}
	if sent[0] == msg {
		t.Error("the caller's *ProducerMessage was handed to the client; want a copy carrying the injected properties")
	}
	if sent[0].Key != "key-1" || string(sent[0].Payload) != "hello" {
		t.Errorf("copy lost fields: %+v", sent[0])
	}
	if sent[0].Properties["k"] != "v" || sent[0].Properties["traceparent"] == "" {
		t.Errorf("sent properties %v, want the user's plus traceparent", sent[0].Properties)
	}

	span := tel.One(t, "send orders")
	if span.SpanKind() != trace.SpanKindProducer {
		t.Errorf("kind %v, want producer", span.SpanKind())
	}
	if span.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Error("send span is not a child of the caller's span")
	}
	telemetrytest.WantAttr(t, span, semconv.MessagingSystemKey, "pulsar")
	telemetrytest.WantAttr(t, span, semconv.MessagingDestinationNameKey, "orders")
	telemetrytest.WantAttr(t, span, semconv.MessagingOperationTypeKey, "send")
	telemetrytest.WantAttr(t, span, semconv.MessagingMessageIDKey, formatMessageID(id))
	telemetrytest.WantAttr(t, span, semconv.ServerAddressKey, "broker.example")
	telemetrytest.WantAttr(t, span, semconv.ServerPortKey, int64(6650))
	if want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-01"; sent[0].Properties["traceparent"] != want {
		t.Errorf("traceparent %q, want %q (the send span)", sent[0].Properties["traceparent"], want)
	}
}

func TestSendErrorIsRecorded(t *testing.T) {
	tel := telemetrytest.New(t)
	boom := errors.New("boom")
	fp := &fakeProducer{topic: "orders", sendErr: boom}
	p := WrapProducer(fp, tel.Options()...)
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); !errors.Is(err, boom) {
		t.Fatalf("Send error %v, want %v", err, boom)
	}
	span := tel.One(t, "send orders")
	if span.Status().Code != codes.Error {
		t.Errorf("status %v, want error", span.Status())
	}
	telemetrytest.WantAttr(t, span, semconv.ErrorTypeKey, "*errors.errorString")
	telemetrytest.NoAttr(t, span, semconv.MessagingMessageIDKey)
	if n := tel.CounterSum(t, "messaging.client.sent.messages", semconv.ErrorTypeKey.String("*errors.errorString")); n != 1 {
		t.Errorf("sent.messages with error.type = %d, want 1", n)
	}
}

func TestSendNilMessagePassesThrough(t *testing.T) {
	tel := telemetrytest.New(t)
	p := WrapProducer(&fakeProducer{topic: "orders"}, tel.Options()...)
	_, _ = p.Send(context.Background(), nil) // must not panic
	done := make(chan struct{})
	p.SendAsync(context.Background(), nil, func(pulsar.MessageID, *pulsar.ProducerMessage, error) { close(done) })
	<-done
	if n := len(tel.Recorder.Ended()); n != 0 {
		t.Errorf("%d spans for nil messages, want 0", n)
	}
	UnwrapProducer(p).(*fakeProducer).wg.Wait()
}

func TestSendAsyncEndsSpanOnceAndReturnsCallersMessage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sendErr error
		twice   bool
	}{
		{"success", nil, false},
		{"error", pulsar.ErrSendTimeout, false},
		{"client calls back twice", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			fp := &fakeProducer{topic: "orders", sendErr: tc.sendErr, asyncTwice: tc.twice}
			p := WrapProducer(fp, tel.Options()...)
			msg := &pulsar.ProducerMessage{Payload: []byte("x")}
			var calls atomic.Int32
			got := make(chan *pulsar.ProducerMessage, 2)
			p.SendAsync(context.Background(), msg, func(_ pulsar.MessageID, m *pulsar.ProducerMessage, err error) {
				calls.Add(1)
				if !errors.Is(err, tc.sendErr) {
					t.Errorf("callback error %v, want %v", err, tc.sendErr)
				}
				got <- m
			})
			if err := p.FlushWithCtx(context.Background()); err != nil {
				t.Fatal(err)
			}
			if m := <-got; m != msg {
				t.Error("callback got a message other than the caller's")
			}
			wantCalls := int32(1)
			if tc.twice {
				wantCalls = 2
			}
			if n := calls.Load(); n != wantCalls {
				t.Errorf("callback ran %d times, want %d", n, wantCalls)
			}
			span := tel.One(t, "send orders")
			if got := tel.CounterSum(t, "messaging.client.sent.messages"); got != 1 {
				t.Errorf("sent.messages = %d, want 1: the span was ended more or less than once", got)
			}
			if (span.Status().Code == codes.Error) != (tc.sendErr != nil) {
				t.Errorf("status %v with send error %v", span.Status(), tc.sendErr)
			}
			if msg.Properties != nil {
				t.Errorf("caller's message got properties %v", msg.Properties)
			}
		})
	}
}

func TestSendPropagatesBaggageAndKeepsUntracedMessagesUncopied(t *testing.T) {
	tel := telemetrytest.New(t)
	fp := &fakeProducer{topic: "orders"}
	p := WrapProducer(fp, tel.Options()...)
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{}); err != nil {
		t.Fatal(err)
	}
	if got := fp.messages()[0].Properties["baggage"]; got != "tenant=acme" {
		t.Errorf("baggage property %q, want tenant=acme", got)
	}
}

func TestProducerPassesThrough(t *testing.T) {
	fp := &fakeProducer{topic: "orders"}
	p := WrapProducer(fp)
	//lint:ignore SA1019 the deprecated method must still pass through
	if p.Topic() != "orders" || p.Name() != "fake-producer" || p.LastSequenceID() != 41 || p.Flush() != nil {
		t.Error("pass-through methods do not reach the wrapped producer")
	}
	if WrapProducer(p) != p {
		t.Error("wrapping a wrapped producer wraps it again")
	}
	if UnwrapProducer(p) != pulsar.Producer(fp) || UnwrapProducer(fp) != pulsar.Producer(fp) {
		t.Error("UnwrapProducer does not return the wrapped producer")
	}
	p.Close()
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{}); !errors.Is(err, pulsar.ErrProducerClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestSendMetrics(t *testing.T) {
	tel := telemetrytest.New(t)
	fp := &fakeProducer{topic: "orders"}
	p := WrapProducer(fp, tel.Options()...)
	for range 5 {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{}); err != nil {
			t.Fatal(err)
		}
	}
	fp.mu.Lock()
	fp.sendErr = errors.New("down")
	fp.mu.Unlock()
	_, _ = p.Send(context.Background(), &pulsar.ProducerMessage{})
	ok := []attribute.KeyValue{semconv.MessagingSystemKey.String("pulsar"), semconv.MessagingDestinationName("orders"), semconv.MessagingOperationName("send")}
	if n := tel.CounterSum(t, "messaging.client.sent.messages", ok...); n != 6 {
		t.Errorf("sent.messages = %d, want 6", n)
	}
	if n := tel.HistogramCount(t, "messaging.client.operation.duration", ok...); n != 6 {
		t.Errorf("operation.duration count for send = %d, want 6", n)
	}
	if n := tel.HistogramCount(t, "messaging.client.operation.duration", append(ok, semconv.ErrorTypeKey.String("*errors.errorString"))...); n != 1 {
		t.Errorf("operation.duration count for failed sends = %d, want 1", n)
	}
}

func TestBodySizeAndSpanAttributes(t *testing.T) {
	tel := telemetrytest.New(t)
	opts := tel.Options(asynctrace.WithMessageBodySize(), asynctrace.WithSpanAttributes(attribute.String("team", "billing")))
	fp := &fakeProducer{topic: "orders"}
	p := WrapProducer(fp, opts...)
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("12345")}); err != nil {
		t.Fatal(err)
	}
	send := tel.One(t, "send orders")
	telemetrytest.WantAttr(t, send, semconv.MessagingMessageBodySizeKey, int64(5))
	telemetrytest.WantAttr(t, send, "team", "billing")

	fc := newFakeConsumer()
	c := WrapConsumer(fc, opts...)
	defer c.Close()
	m := message(1, fp.messages()[0].Properties)
	m.payload = []byte("1234567")
	fc.push(m)
	got, err := c.Receive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Nack(got)
	proc := tel.One(t, "process orders")
	telemetrytest.WantAttr(t, proc, semconv.MessagingMessageBodySizeKey, int64(7))
	telemetrytest.WantAttr(t, proc, "team", "billing")
}
