package watermilltrace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestWrapSubscriberEndsSpanOnAckAndNack(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	sub := watermilltrace.WrapSubscriber(g, tel.Options()...)
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := tel.Root(context.Background(), "request")
	if err := watermilltrace.WrapPublisher(g, tel.Options()...).Publish("jobs", message.NewMessageWithContext(ctx, "j1", nil)); err != nil {
		t.Fatal(err)
	}
	root.End()
	send := tel.WaitEnded(t, "send jobs", 1)[0]

	first := telemetrytest.Recv(t, msgs, "message")
	sc := trace.SpanContextFromContext(first.Context())
	if n := len(tel.Ended("process jobs")); n != 0 {
		t.Fatalf("%d process spans ended before the message was settled", n)
	}
	first.Nack()
	nacked := tel.WaitEnded(t, "process jobs", 1)[0]
	if nacked.SpanContext().SpanID() != sc.SpanID() {
		t.Errorf("the message's context does not carry its process span")
	}
	if nacked.Parent().SpanID() != send.SpanContext().SpanID() || nacked.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Errorf("process span parent %s, want the send span %s", nacked.Parent().SpanID(), send.SpanContext().SpanID())
	}
	if got := telemetrytest.AttrString(nacked, "asynctrace.message.settlement"); got != "nack" {
		t.Errorf("settlement %s, want nack", got)
	}

	// GoChannel delivers a nacked message again.
	second := telemetrytest.Recv(t, msgs, "redelivered message")
	second.Ack()
	procs := tel.WaitEnded(t, "process jobs", 2)
	if got := telemetrytest.AttrString(procs[1], "asynctrace.message.settlement"); got != "ack" {
		t.Errorf("settlement %s, want ack", got)
	}
	if got := telemetrytest.AttrString(procs[1], "messaging.destination.name"); got != "jobs" {
		t.Errorf("destination %s", got)
	}
}

func TestWrapSubscriberWatchesManyUnsettledMessages(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	sub := watermilltrace.WrapSubscriber(g, tel.Options()...)
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(context.Background(), "batch")
	if err != nil {
		t.Fatal(err)
	}
	pub := watermilltrace.WrapPublisher(g, tel.Options()...)
	const n = 6
	for i := range n {
		if err := pub.Publish("batch", message.NewMessage(fmt.Sprint(i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	// GoChannel hands over the next message without waiting for the
	// previous one's ack: all n are unsettled at once.
	var got []*message.Message
	for range n {
		got = append(got, telemetrytest.Recv(t, msgs, "message"))
	}
	if k := len(tel.Ended("process batch")); k != 0 {
		t.Fatalf("%d spans ended before any settlement", k)
	}
	for i := n - 1; i >= 0; i-- {
		if i%2 == 0 {
			got[i].Ack()
		} else {
			got[i].Nack()
		}
		spans := tel.WaitEnded(t, "process batch", n-i)
		last := spans[len(spans)-1]
		if telemetrytest.AttrString(last, "messaging.message.id") != got[i].UUID {
			t.Errorf("span ended for %s, want %s (the message just settled)", telemetrytest.AttrString(last, "messaging.message.id"), got[i].UUID)
		}
		want := map[bool]string{true: "ack", false: "nack"}[i%2 == 0]
		if s := telemetrytest.AttrString(last, "asynctrace.message.settlement"); s != want {
			t.Errorf("message %s: settlement %s, want %s", got[i].UUID, s, want)
		}
	}
	// The nacked ones come back; settle them so that Close finds nothing.
	for range n / 2 {
		telemetrytest.Recv(t, msgs, "redelivered message").Ack()
	}
	tel.WaitEnded(t, "process batch", n+n/2)
}

func TestWrapSubscriberCloseEndsUnsettledSpans(t *testing.T) {
	tel := telemetrytest.New(t)
	g := gochannel.NewGoChannel(gochannel.Config{}, nil)
	sub := watermilltrace.WrapSubscriber(g, tel.Options()...)
	msgs, err := sub.Subscribe(context.Background(), "held")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Publish("held", message.NewMessage("h1", nil)); err != nil {
		t.Fatal(err)
	}
	held := telemetrytest.Recv(t, msgs, "message")
	closed := make(chan error, 1)
	go func() { closed <- sub.Close() }()
	if err := telemetrytest.Recv(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}
	if _, open := <-msgs; open {
		t.Errorf("channel still open after Close")
	}
	procs := tel.WaitEnded(t, "process held", 1)
	if got := telemetrytest.AttrString(procs[0], "asynctrace.message.settlement"); got != "abandoned" {
		t.Errorf("settlement %s, want abandoned", got)
	}
	held.Ack() // late ack: nothing left to end, nothing panics
	if _, err := sub.Subscribe(context.Background(), "held"); !errors.Is(err, watermilltrace.ErrSubscriberClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrSubscriberClosed", err)
	}
	if n := len(tel.Ended("process held")); n != 1 {
		t.Errorf("%d process spans, want 1", n)
	}
}

func TestWrapSubscriberContextCancelClosesChannel(t *testing.T) {
	tel := telemetrytest.New(t)
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	sub := watermilltrace.WrapSubscriber(g, tel.Options()...)
	t.Cleanup(func() { _ = sub.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	msgs, err := sub.Subscribe(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2"} {
		if err := g.Publish("cancelled", message.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	telemetrytest.Recv(t, msgs, "message") // unsettled; the second one waits to be handed over
	deadline := time.Now().Add(telemetrytest.WaitTimeout)
	for len(tel.Recorder.Started()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for range msgs {
		// The channel must close; a message still handed over here is
		// fine, it is settled by Close below.
	}
	procs := tel.WaitEnded(t, "process cancelled", 2)
	for _, p := range procs {
		if got := telemetrytest.AttrString(p, "asynctrace.message.settlement"); got != "abandoned" {
			t.Errorf("%s: settlement %s, want abandoned", telemetrytest.AttrString(p, "messaging.message.id"), got)
		}
	}
}

// chanSubscriber delivers whatever the test sends on ch.
type chanSubscriber struct{ ch chan *message.Message }

func (s chanSubscriber) Subscribe(context.Context, string) (<-chan *message.Message, error) {
	return s.ch, nil
}

func (s chanSubscriber) Close() error { close(s.ch); return nil }

func TestWrapSubscriberBoundsWatchedMessages(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		testBoundsWatchedMessages(t, watermilltrace.DefaultMaxUnsettled)
	})
	t.Run("WithMaxUnsettled", func(t *testing.T) {
		testBoundsWatchedMessages(t, 2, watermilltrace.WithMaxUnsettled(2))
	})
}

// testBoundsWatchedMessages checks that a subscriber made with extra
// watches at most bound unsettled messages.
func testBoundsWatchedMessages(t *testing.T, bound int, extra ...asynctrace.Option) {
	tel := telemetrytest.New(t)
	inner := chanSubscriber{ch: make(chan *message.Message)}
	sub := watermilltrace.WrapSubscriber(inner, tel.Options(extra...)...)
	msgs, err := sub.Subscribe(context.Background(), "flood")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range bound + 1 {
			inner.ch <- message.NewMessage(fmt.Sprint(i), nil)
		}
	}()
	var got []*message.Message
	for range bound + 1 {
		got = append(got, telemetrytest.Recv(t, msgs, "message"))
	}
	// Handing over one more than the bound makes the oldest unwatched.
	evicted := tel.WaitEnded(t, "process flood", 1)[0]
	if id, s := telemetrytest.AttrString(evicted, "messaging.message.id"), telemetrytest.AttrString(evicted, "asynctrace.message.settlement"); id != "0" || s != "abandoned" {
		t.Errorf("evicted span: id %s, settlement %q; want id 0, abandoned", id, s)
	}
	got[0].Ack() // no longer watched
	got[1].Ack()
	spans := tel.WaitEnded(t, "process flood", 2)
	if id, s := telemetrytest.AttrString(spans[1], "messaging.message.id"), telemetrytest.AttrString(spans[1], "asynctrace.message.settlement"); id != "1" || s != "ack" {
		t.Errorf("second span: id %s settlement %s, want 1, ack", id, s)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(tel.Ended("process flood")); n != bound+1 {
		t.Errorf("%d spans ended after Close, want %d", n, bound+1)
	}
}

type initSubscriber struct {
	chanSubscriber
	initialized []string
}

func (s *initSubscriber) SubscribeInitialize(topic string) error {
	s.initialized = append(s.initialized, topic)
	return nil
}

func TestWrapSubscriberPassesSubscribeInitialize(t *testing.T) {
	inner := &initSubscriber{chanSubscriber: chanSubscriber{ch: make(chan *message.Message)}}
	sub := watermilltrace.WrapSubscriber(inner)
	si, ok := sub.(message.SubscribeInitializer)
	if !ok {
		t.Fatal("wrapped subscriber is not a SubscribeInitializer")
	}
	if err := si.SubscribeInitialize("t1"); err != nil || len(inner.initialized) != 1 || inner.initialized[0] != "t1" {
		t.Errorf("SubscribeInitialize: err %v, inner saw %v", err, inner.initialized)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
}

// nilChanSubscriber returns no channel and no error.
type nilChanSubscriber struct{}

func (nilChanSubscriber) Subscribe(context.Context, string) (<-chan *message.Message, error) {
	return nil, nil
}

func (nilChanSubscriber) Close() error { return nil }

// A subscriber that returns a nil channel never delivers; Close must still
// return instead of waiting for that channel to close.
func TestWrapSubscriberNilChannelClose(t *testing.T) {
	tel := telemetrytest.New(t)
	sub := watermilltrace.WrapSubscriber(nilChanSubscriber{}, tel.Options()...)
	msgs, err := sub.Subscribe(context.Background(), "nothing")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- sub.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, ok := <-msgs; ok {
		t.Fatal("the returned channel delivered a message")
	}
}

// Settlements that race Close end each span once, with the settlement or as
// abandoned, whichever comes first.
func TestWrapSubscriberSettleDuringClose(t *testing.T) {
	tel := telemetrytest.New(t)
	inner := chanSubscriber{ch: make(chan *message.Message)}
	sub := watermilltrace.WrapSubscriber(inner, tel.Options()...)
	msgs, err := sub.Subscribe(context.Background(), "race")
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	go func() {
		for i := range n {
			inner.ch <- message.NewMessage(fmt.Sprint(i), nil)
		}
	}()
	var got []*message.Message
	for range n {
		got = append(got, telemetrytest.Recv(t, msgs, "message"))
	}
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		for i, m := range got {
			if i%2 == 0 {
				m.Ack()
			} else {
				m.Nack()
			}
		}
	}()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	<-settled
	spans := tel.Ended("process race")
	if len(spans) != n {
		t.Fatalf("%d process spans ended, want %d", len(spans), n)
	}
	for _, s := range spans {
		id := telemetrytest.AttrString(s, "messaging.message.id")
		want := map[bool]string{true: "ack", false: "nack"}[id[len(id)-1]%2 == 0]
		if got := telemetrytest.AttrString(s, "asynctrace.message.settlement"); got != want && got != "abandoned" {
			t.Errorf("message %s: settlement %s, want %s or abandoned", id, got, want)
		}
	}
	if c := tel.HistogramCount(t, "messaging.process.duration"); c != n {
		t.Errorf("messaging.process.duration counted %d messages, want %d", c, n)
	}
}
