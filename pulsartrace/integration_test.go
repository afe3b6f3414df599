package pulsartrace

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// received is what a consumer mode hands the test: the context the user
// code gets and the message.
type received struct {
	ctx context.Context
	msg pulsar.Message
}

// consumeOne takes one message from c in the given mode and settles it
// with ack; for "Handle" the handler's return does that.
func consumeOne(t *testing.T, c pulsar.Consumer, mode string) received {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	switch mode {
	case "Receive":
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
		return received{ContextFromMessage(m), m}
	case "receiveContext":
		pctx, m, err := c.(*consumer).receiveContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
		return received{pctx, m}
	case "Chan":
		select {
		case cm := <-c.Chan():
			if err := cm.Ack(cm.Message); err != nil {
				t.Fatal(err)
			}
			return received{ContextFromMessage(cm), cm.Message}
		case <-ctx.Done():
			t.Fatal("no message on Chan")
		}
	case "Handle":
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var got received
		err := Handle(hctx, c, func(ctx context.Context, msg pulsar.Message) error {
			got = received{ctx, msg}
			cancel()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.msg == nil {
			t.Fatal("Handle returned before a message came")
		}
		return got
	}
	t.Fatalf("unknown mode %q", mode)
	return received{}
}

// sendOne sends msg through p in the given mode and waits for the outcome.
func sendOne(t *testing.T, p pulsar.Producer, mode string, ctx context.Context, msg *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	t.Helper()
	if mode == "Send" {
		return p.Send(ctx, msg)
	}
	type outcome struct {
		id  pulsar.MessageID
		err error
	}
	done := make(chan outcome, 1)
	p.SendAsync(ctx, msg, func(id pulsar.MessageID, _ *pulsar.ProducerMessage, err error) { done <- outcome{id, err} })
	select {
	case o := <-done:
		return o.id, o.err
	case <-time.After(30 * time.Second):
		t.Fatal("SendAsync callback never ran")
		return nil, nil
	}
}

func TestIntegrationTraceContinuesAcrossBroker(t *testing.T) {
	b := newBroker(t)
	for _, sendMode := range []string{"Send", "SendAsync"} {
		for _, recvMode := range []string{"Receive", "receiveContext", "Chan", "Handle"} {
			t.Run(sendMode+"/"+recvMode, func(t *testing.T) {
				tel := telemetrytest.New(t)
				opts := tel.Options(WithServiceURL(b.url))
				client := b.client(t)
				name := topic(t)
				c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), opts...)
				defer c.Close()
				p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), opts...)

				member, _ := baggage.NewMember("tenant", "acme")
				bag, _ := baggage.New(member)
				ctx, parent := tel.Root(baggage.ContextWithBaggage(context.Background(), bag), "request")
				userProps := map[string]string{"order": "42"}
				msg := &pulsar.ProducerMessage{Payload: []byte("hello"), Properties: userProps}
				id, err := sendOne(t, p, sendMode, ctx, msg)
				parent.End()
				if err != nil {
					t.Fatal(err)
				}
				if len(userProps) != 1 {
					t.Errorf("caller's properties were written: %v", userProps)
				}

				got := consumeOne(t, c, recvMode)
				if string(got.msg.Payload()) != "hello" || got.msg.Properties()["order"] != "42" {
					t.Errorf("received %q %v", got.msg.Payload(), got.msg.Properties())
				}
				if v := baggage.FromContext(got.ctx).Member("tenant").Value(); v != "acme" {
					t.Errorf("baggage tenant=%q in the consumer, want acme", v)
				}
				send := tel.One(t, "send "+name)
				if send.Parent().SpanID() != parent.SpanContext().SpanID() {
					t.Error("send span is not a child of the caller's span")
				}
				telemetrytest.WantAttr(t, send, semconv.MessagingMessageIDKey, formatMessageID(id))
				if sc := trace.SpanContextFromContext(got.ctx); sc.TraceID() != parent.SpanContext().TraceID() {
					t.Errorf("consumer context in trace %s, want %s", sc.TraceID(), parent.SpanContext().TraceID())
				}
				waitFor(t, 5*time.Second, "the process span to end", func() bool { return len(tel.Ended("process "+name)) == 1 })
				proc := tel.One(t, "process "+name)
				if proc.Parent().SpanID() != send.SpanContext().SpanID() || proc.SpanContext().TraceID() != send.SpanContext().TraceID() {
					t.Error("process span is not a child of the send span in the same trace")
				}
				telemetrytest.WantAttr(t, proc, semconv.MessagingDestinationNameKey, name)
				telemetrytest.WantAttr(t, proc, semconv.MessagingDestinationSubscriptionNameKey, "sub")
				telemetrytest.WantAttr(t, proc, semconv.MessagingMessageIDKey, formatMessageID(id))
				telemetrytest.WantAttr(t, proc, RedeliveryCountKey, int64(0))
				telemetrytest.WantAttr(t, proc, settlementKey, "acknowledge")
				host, port, _ := parseServiceURL(b.url)
				telemetrytest.WantAttr(t, proc, semconv.ServerAddressKey, host)
				telemetrytest.WantAttr(t, proc, semconv.ServerPortKey, int64(port))
			})
		}
	}
}

func TestIntegrationForeignAndMalformedContext(t *testing.T) {
	b := newBroker(t)
	for name, props := range map[string]map[string]string{
		"untraced producer": {"a": "b"},
		"malformed":         {"traceparent": "00-not-a-trace-id-at-all-01", "tracestate": "=,=", "baggage": "%%%"},
	} {
		t.Run(name, func(t *testing.T) {
			tel := telemetrytest.New(t)
			client := b.client(t)
			topicName := topic(t)
			raw := subscribe(t, client, pulsar.ConsumerOptions{Topic: topicName})
			c := WrapConsumer(raw, tel.Options()...)
			// The raw producer plays a service without asynctrace.
			p := createProducer(t, client, pulsar.ProducerOptions{Topic: topicName})
			if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x"), Properties: props}); err != nil {
				t.Fatal(err)
			}
			got := consumeOne(t, c, "Handle")
			if !trace.SpanContextFromContext(got.ctx).IsValid() {
				t.Error("handler context has no span")
			}
			c.Close() // flushes the grouped ack
			proc := tel.One(t, "process "+topicName)
			if proc.Parent().IsValid() {
				t.Errorf("process span has parent %v, want a new root", proc.Parent())
			}
			telemetrytest.WantAttr(t, proc, settlementKey, "acknowledge")
			if b.srv != nil {
				waitFor(t, 5*time.Second, "the broker to see the ack", func() bool {
					n, ok := b.srv.Backlog(topicName, "sub")
					return ok && n == 0
				})
			}
		})
	}
}

func TestIntegrationPropertiesRoundTrip(t *testing.T) {
	b := newBroker(t)
	const n = 1000
	for _, batching := range []bool{false, true} {
		t.Run("batching="+strconv.FormatBool(batching), func(t *testing.T) {
			tel := telemetrytest.New(t)
			client := b.client(t)
			name := topic(t)
			c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name, ReceiverQueueSize: 2000}), tel.Options()...)
			defer c.Close()
			p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name, DisableBatching: !batching}), tel.Options()...)

			userProps := make([]map[string]string, n)
			var wg sync.WaitGroup
			var failed atomic.Int32
			ctx := ctxTimeout(t, 60*time.Second)
			for i := range n {
				userProps[i] = map[string]string{"i": strconv.Itoa(i), "shared": "yes", "empty": ""}
				wg.Add(1)
				p.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte(strconv.Itoa(i)), Properties: userProps[i]},
					func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
						if err != nil {
							failed.Add(1)
						}
						wg.Done()
					})
			}
			if err := p.FlushWithCtx(ctx); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if failed.Load() != 0 {
				t.Fatalf("%d sends failed", failed.Load())
			}
			for i, props := range userProps {
				if len(props) != 3 || props["i"] != strconv.Itoa(i) {
					t.Fatalf("caller's properties %d were written: %v", i, props)
				}
			}
			sends := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range tel.Ended("send " + name) {
				sends[s.SpanContext().SpanID().String()] = s
			}
			if len(sends) != n {
				t.Fatalf("%d send spans, want %d", len(sends), n)
			}

			seen := map[string]bool{}
			for range n {
				m, err := c.Receive(ctx)
				if err != nil {
					t.Fatalf("after %d messages: %v", len(seen), err)
				}
				i, _ := strconv.Atoi(string(m.Payload()))
				got := m.Properties()
				want := maps.Clone(userProps[i])
				want["traceparent"] = got["traceparent"]
				if !maps.Equal(got, want) || got["traceparent"] == "" {
					t.Fatalf("message %d properties %v, want %v plus traceparent", i, got, userProps[i])
				}
				if seen[string(m.Payload())] {
					t.Fatalf("message %d received twice", i)
				}
				seen[string(m.Payload())] = true
				// The process span continues this message's own send span.
				tp := got["traceparent"]
				if len(tp) != 55 {
					t.Fatalf("message %d traceparent %q", i, tp)
				}
				send, ok := sends[tp[36:52]]
				if !ok {
					t.Fatalf("message %d traceparent %q names no send span", i, tp)
				}
				if sc := trace.SpanContextFromContext(ContextFromMessage(m)); sc.TraceID() != send.SpanContext().TraceID() {
					t.Fatalf("message %d processed in trace %s, sent in %s", i, sc.TraceID(), send.SpanContext().TraceID())
				}
				if err := c.Ack(m); err != nil {
					t.Fatal(err)
				}
			}
			procs := tel.Ended("process " + name)
			if len(procs) != n || unsettledOf(c) != 0 {
				t.Errorf("%d process spans ended, %d unsettled; want %d, 0", len(procs), unsettledOf(c), n)
			}
			// Messages of one batch share ledger and entry; their ids
			// still differ, by batch index.
			ids := map[string]bool{}
			for _, s := range procs {
				v, _ := telemetrytest.Attr(s, semconv.MessagingMessageIDKey)
				ids[v.AsString()] = true
			}
			if len(ids) != n {
				t.Errorf("%d distinct message ids on %d process spans", len(ids), len(procs))
			}
			if b.srv != nil {
				stored := b.srv.Messages(name)
				if len(stored) != n {
					t.Fatalf("broker stores %d messages, want %d", len(stored), n)
				}
				batched := 0
				for _, m := range stored {
					if m.BatchSize > 0 {
						batched++
					}
				}
				if batching != (batched > 0) {
					t.Errorf("%d of %d stored messages came in batches with batching=%v", batched, n, batching)
				}
			}
		})
	}
}

func TestIntegrationSendAfterCloseEndsSpanOnceWithError(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	raw := createProducer(t, client, pulsar.ProducerOptions{Topic: name})
	p := WrapProducer(raw, tel.Options()...)
	p.Close()
	_, err := sendOne(t, p, "SendAsync", context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")})
	if !errors.Is(err, pulsar.ErrProducerClosed) {
		t.Fatalf("SendAsync on a closed producer: %v, want ErrProducerClosed", err)
	}
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); !errors.Is(err, pulsar.ErrProducerClosed) {
		t.Fatalf("Send on a closed producer: %v, want ErrProducerClosed", err)
	}
	spans := tel.Ended("send " + name)
	if len(spans) != 2 {
		t.Fatalf("%d send spans ended, want 2 (one per send, each once)", len(spans))
	}
	if got := tel.CounterSum(t, "messaging.client.sent.messages"); got != 2 {
		t.Errorf("sent.messages = %d, want 2: a send span was ended more or less than once", got)
	}
	for _, s := range spans {
		if s.Status().Code != codes.Error {
			t.Errorf("send span status %v, want error", s.Status())
		}
		if _, ok := telemetrytest.Attr(s, semconv.ErrorTypeKey); !ok {
			t.Error("send span has no error.type")
		}
	}
}

func TestIntegrationReconsumeLaterAndDeadLetterKeepTrace(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	dlqName := name + "-sub-DLQ"
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{
		Topic:       name,
		RetryEnable: true,
		DLQ:         &pulsar.DLQPolicy{MaxDeliveries: 1, DeadLetterTopic: "persistent://public/default/" + dlqName},
	}), tel.Options()...)
	defer c.Close()
	dlq := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: dlqName, SubscriptionName: "dlq-reader"}), tel.Options()...)
	defer dlq.Close()
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)

	ctx, parent := tel.Root(context.Background(), "request")
	if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("retry me"), Properties: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	send := tel.One(t, "send "+name)

	rctx := ctxTimeout(t, 20*time.Second)
	first, err := c.Receive(rctx)
	if err != nil {
		t.Fatal(err)
	}
	c.ReconsumeLater(first, 0)
	second, err := c.Receive(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Properties()["k"] != "v" {
		t.Errorf("retried message lost the user's properties: %v", second.Properties())
	}
	// The retried message is past MaxDeliveries the next time: dead letter.
	c.ReconsumeLater(second, 0)
	dead, err := dlq.Receive(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dlq.Ack(dead); err != nil {
		t.Fatal(err)
	}

	var procs []sdktrace.ReadOnlySpan
	waitFor(t, 5*time.Second, "three process spans", func() bool {
		procs = nil
		for _, s := range tel.Recorder.Ended() {
			if s.SpanKind() == trace.SpanKindConsumer {
				procs = append(procs, s)
			}
		}
		return len(procs) == 3
	})
	for _, s := range procs {
		if s.SpanContext().TraceID() != send.SpanContext().TraceID() || s.Parent().SpanID() != send.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the original send span", s.Name())
		}
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range procs {
		byName[s.Name()] = s
	}
	if s := byName["process "+name]; s == nil {
		t.Error("no process span for the original topic")
	} else {
		telemetrytest.WantAttr(t, s, settlementKey, "reconsume_later")
	}
	if s := byName["process "+name+"-sub-RETRY"]; s == nil {
		t.Errorf("no process span for the retry topic (spans %v)", telemetrytest.SpanNames(procs))
	} else {
		telemetrytest.WantAttr(t, s, ReconsumeTimesKey, int64(1))
		telemetrytest.WantAttr(t, s, settlementKey, "reconsume_later")
	}
	if s := byName["process "+dlqName]; s == nil {
		t.Errorf("no process span for the dead-letter topic (spans %v)", telemetrytest.SpanNames(procs))
	} else {
		telemetrytest.WantAttr(t, s, settlementKey, "acknowledge")
	}
}

func TestIntegrationUnsettledEndOnClose(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	for i := range 3 {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxTimeout(t, 10*time.Second)
	for range 3 {
		if _, err := c.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tel.Ended("process " + name)); n != 0 {
		t.Fatalf("%d process spans ended before settlement", n)
	}
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	spans := tel.Ended("process " + name)
	if len(spans) != 3 {
		t.Fatalf("%d process spans ended on Close, want 3", len(spans))
	}
	for _, s := range spans {
		telemetrytest.WantAttr(t, s, settlementKey, "abandoned")
	}
}

func TestIntegrationLinkToProducer(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options(asynctrace.WithLinkToProducer())...)
	defer c.Close()
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	got := consumeOne(t, c, "Handle")
	send := tel.One(t, "send "+name)
	proc := tel.One(t, "process "+name)
	if proc.Parent().IsValid() || proc.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Error("linked process span continues the producer's trace; want a new trace")
	}
	if l := proc.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != send.SpanContext().SpanID() {
		t.Errorf("links %v, want one to the send span", l)
	}
	if trace.SpanContextFromContext(got.ctx).SpanID() != proc.SpanContext().SpanID() {
		t.Error("handler context does not carry the process span")
	}
}

func TestIntegrationMetrics(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	const ok = 5
	for i := range ok {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("late")}); err == nil {
		t.Fatal("Send after Close succeeded")
	}
	ctx := ctxTimeout(t, 10*time.Second)
	for i := range ok {
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.Nack(m)
		} else if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()

	system := semconv.MessagingSystemKey.String("pulsar")
	dest := semconv.MessagingDestinationName(name)
	dur := "messaging.client.operation.duration"
	if n := tel.CounterSum(t, "messaging.client.sent.messages", system, dest); n != ok+1 {
		t.Errorf("sent.messages = %d, want %d", n, ok+1)
	}
	errType := semconv.ErrorTypeKey.String("*pulsar.Error")
	if n := tel.CounterSum(t, "messaging.client.sent.messages", system, dest, errType); n != 1 {
		t.Errorf("failed sent.messages = %d, want 1", n)
	}
	if n := tel.HistogramCount(t, dur, system, dest, semconv.MessagingOperationTypeSend); n != ok+1 {
		t.Errorf("send durations %d, want %d", n, ok+1)
	}
	if n := tel.HistogramCount(t, dur, system, dest, semconv.MessagingOperationTypeSend, errType); n != 1 {
		t.Errorf("failed send durations %d, want 1", n)
	}
	sub := semconv.MessagingDestinationSubscriptionName("sub")
	if n := tel.CounterSum(t, "messaging.client.consumed.messages", system, dest, sub); n != ok {
		t.Errorf("consumed.messages = %d, want %d", n, ok)
	}
	if n := tel.HistogramCount(t, dur, system, dest, sub, semconv.MessagingOperationTypeReceive); n != ok {
		t.Errorf("receive durations %d, want %d", n, ok)
	}
	if n := tel.HistogramCount(t, dur, system, dest, sub, semconv.MessagingOperationName("ack")); n != ok-1 {
		t.Errorf("ack durations %d, want %d", n, ok-1)
	}
	if n := tel.HistogramCount(t, dur, system, dest, sub, semconv.MessagingOperationName("nack")); n != 1 {
		t.Errorf("nack durations %d, want 1", n)
	}
	if n := tel.HistogramCount(t, "messaging.process.duration", system, dest, sub); n != ok {
		t.Errorf("process durations %d, want %d", n, ok)
	}
}

func TestIntegrationPartitionedTopicNamesTheTopic(t *testing.T) {
	b := newBroker(t)
	srv := b.needServer(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	if err := srv.CreatePartitionedTopic(name, 3); err != nil {
		t.Fatal(err)
	}
	c := WrapConsumer(subscribe(t, client, pulsar.ConsumerOptions{Topic: name}), tel.Options()...)
	defer c.Close()
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: "persistent://public/default/" + name}), tel.Options()...)
	const n = 30
	for i := range n {
		if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Key: strconv.Itoa(i), Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	partitions := map[int32]bool{}
	ctx := ctxTimeout(t, 10*time.Second)
	for range n {
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		partitions[m.ID().PartitionIdx()] = true
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	if len(partitions) < 2 {
		t.Errorf("messages came from %d partitions; the test wants several", len(partitions))
	}
	sends := map[string]bool{}
	for _, s := range tel.Ended("send " + name) {
		sends[s.SpanContext().SpanID().String()] = true
	}
	procs := tel.Ended("process " + name)
	if len(sends) != n || len(procs) != n {
		t.Fatalf("%d send and %d process spans named after %q, want %d each (all: %v)", len(sends), len(procs), name, n, telemetrytest.SpanNames(tel.Recorder.Ended()))
	}
	for _, s := range procs {
		if !sends[s.Parent().SpanID().String()] {
			t.Fatal("a process span's parent is not a send span")
		}
		telemetrytest.WantAttr(t, s, semconv.MessagingDestinationNameKey, name)
	}
}

// Messages handed out by the wrapper work with the client's own consumer,
// and a redelivery after a nack shows on the span.
func TestIntegrationWrappedMessagesWorkWithClientConsumer(t *testing.T) {
	b := newBroker(t)
	tel := telemetrytest.New(t)
	client := b.client(t)
	name := topic(t)
	raw := subscribe(t, client, pulsar.ConsumerOptions{Topic: name, NackRedeliveryDelay: 20 * time.Millisecond})
	c := WrapConsumer(raw, tel.Options()...)
	p := WrapProducer(createProducer(t, client, pulsar.ProducerOptions{Topic: name}), tel.Options()...)
	if _, err := p.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t, 10*time.Second)
	first, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw.Nack(first) // the client's own consumer, given the wrapped message
	again, err := c.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.RedeliveryCount() != 1 {
		t.Fatalf("redelivery count %d, want 1", again.RedeliveryCount())
	}
	if err := raw.Ack(again); err != nil {
		t.Fatalf("the client's Ack of a wrapped message: %v", err)
	}
	// Neither settlement went through the wrapper: both spans are open
	// until the wrapper settles the id (it settles both deliveries).
	if unsettledOf(c) != 2 {
		t.Fatalf("%d open, want 2", unsettledOf(c))
	}
	if err := c.AckID(again.ID()); err != nil {
		t.Fatal(err)
	}
	spans := tel.Ended("process " + name)
	if len(spans) != 2 {
		t.Fatalf("%d process spans ended, want 2", len(spans))
	}
	counts := map[int64]bool{}
	for _, s := range spans {
		v, _ := telemetrytest.Attr(s, RedeliveryCountKey)
		counts[v.AsInt64()] = true
	}
	if !counts[0] || !counts[1] {
		t.Errorf("redelivery counts on the spans: %v, want 0 and 1", counts)
	}
	c.Close()
	if b.srv != nil {
		waitFor(t, 5*time.Second, "the broker to see the ack", func() bool {
			n, ok := b.srv.Backlog(name, "sub")
			return ok && n == 0
		})
	}
}
