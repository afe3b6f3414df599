package pulsartest_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func produceN(t *testing.T, client pulsar.Client, topic string, n int, batching bool) {
	t.Helper()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: !batching})
	if err != nil {
		t.Fatalf("CreateProducer: %v", err)
	}
	defer prod.Close()
	ctx := ctxT(t, 20*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		prod.SendAsync(ctx, &pulsar.ProducerMessage{
			Payload: []byte("m" + strconv.Itoa(i)),
			Key:     "k" + strconv.Itoa(i),
		}, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			mu.Lock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("send: %v", firstErr)
	}
}

func TestPartitionedTopic(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("orders", 3))
	client := newClient(t, srv)
	parts, err := client.TopicPartitions("persistent://public/default/orders")
	if err != nil || len(parts) != 3 {
		t.Fatalf("TopicPartitions = %v, %v; want 3 partitions", parts, err)
	}
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "public/default/orders", SubscriptionName: "sub",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer cons.Close()
	const n = 300
	produceN(t, client, "orders", n, true)

	seen := map[string]bool{}
	for _, m := range receive(t, cons, n, 20*time.Second) {
		if seen[string(m.Payload())] {
			t.Fatalf("duplicate %q", m.Payload())
		}
		seen[string(m.Payload())] = true
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	perPartition := map[string]int{}
	for _, m := range srv.Messages("orders") {
		perPartition[m.Topic]++
	}
	if len(perPartition) != 3 {
		t.Fatalf("messages spread over %v, want 3 partitions", perPartition)
	}
	if got := len(srv.Messages("persistent://public/default/orders")); got != n {
		t.Fatalf("stored %d, want %d", got, n)
	}
	if got := len(srv.Messages("orders-partition-1")); got != perPartition["persistent://public/default/orders-partition-1"] {
		t.Fatalf("partition 1 by short name has %d messages", got)
	}
	if len(srv.Subscriptions("orders")) != 3 {
		t.Fatalf("subscriptions %+v", srv.Subscriptions("orders"))
	}
}

func TestSharedSubscriptionDeliversEachMessageOnce(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	const topic, n = "shared", 400
	var consumers []pulsar.Consumer
	for i := range 2 {
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic: topic, SubscriptionName: "workers", Type: pulsar.Shared,
			Name: fmt.Sprintf("worker-%d", i), ReceiverQueueSize: 10,
		})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		defer c.Close()
		consumers = append(consumers, c)
	}
	produceN(t, client, topic, n, false)

	var mu sync.Mutex
	seen := map[string]int{}
	perConsumer := make([]int, 2)
	ctx := ctxT(t, 20*time.Second)
	var wg sync.WaitGroup
	for i, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := len(seen) == n
				mu.Unlock()
				if done {
					return
				}
				m, err := c.Receive(ctx)
				if err != nil {
					return
				}
				_ = c.Ack(m)
				mu.Lock()
				seen[string(m.Payload())]++
				perConsumer[i]++
				mu.Unlock()
			}
		}()
	}
	eventually(t, 20*time.Second, "all messages", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	// The client sends grouped acks and CLOSE_CONSUMER on different paths,
	// so a Close right after Ack can overtake the ack, and the broker then
	// hands the message to the other consumer. Wait for the acks first.
	eventually(t, 10*time.Second, "acks to arrive", func() bool {
		b, _ := srv.Backlog(topic, "workers")
		return b == 0
	})
	closeAll(consumers)
	wg.Wait()
	for k, v := range seen {
		if v != 1 {
			t.Fatalf("%s delivered %d times", k, v)
		}
	}
	if perConsumer[0] == 0 || perConsumer[1] == 0 {
		t.Fatalf("per consumer %v: want both to receive", perConsumer)
	}
}

// closeAll unblocks receivers by closing their consumers.
func closeAll(cs []pulsar.Consumer) {
	for _, c := range cs {
		c.Close()
	}
}

func TestNackRedeliversWithCount(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "nack", SubscriptionName: "sub", Type: pulsar.Shared,
		NackRedeliveryDelay: 50 * time.Millisecond,
		AckWithResponse:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	produceN(t, client, "nack", 1, false)

	for want := uint32(0); want < 3; want++ {
		m := receive(t, cons, 1, 10*time.Second)[0]
		if m.RedeliveryCount() != want {
			t.Fatalf("delivery %d: RedeliveryCount = %d", want, m.RedeliveryCount())
		}
		if want < 2 {
			cons.Nack(m)
			continue
		}
		if err := cons.Ack(m); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	subs := srv.Subscriptions("nack")
	if len(subs) != 1 || subs[0].Backlog != 0 || subs[0].Redelivered != 0 {
		t.Fatalf("subscription after ack: %+v", subs)
	}
}

// Without batching, or with batch-index acknowledgement, the broker learns
// exactly which messages were acknowledged. (With batching but without
// batch-index acks the client only acknowledges whole batches.)
var ackModes = []struct {
	name       string
	batching   bool
	batchIndex bool
}{
	{"no-batching", false, false},
	{"batching-with-batch-index-ack", true, true},
}

func TestCumulativeAck(t *testing.T) {
	for _, mode := range ackModes {
		t.Run(mode.name, func(t *testing.T) {
			srv := newServer(t)
			client := newClient(t, srv)
			opts := pulsar.ConsumerOptions{
				Topic: "cumulative", SubscriptionName: "sub",
				EnableBatchIndexAcknowledgment: mode.batchIndex,
			}
			cons, err := client.Subscribe(opts)
			if err != nil {
				t.Fatal(err)
			}
			produceN(t, client, "cumulative", 50, mode.batching)
			msgs := receive(t, cons, 50, 10*time.Second)
			if err := cons.AckCumulative(msgs[29]); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "cumulative ack of 30 messages", func() bool {
				b, _ := srv.Backlog("cumulative", "sub")
				return b == 20
			})
			cons.Close()
			cons, err = client.Subscribe(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			m := receive(t, cons, 1, 10*time.Second)[0]
			if string(m.Payload()) != "m30" {
				t.Fatalf("first message after reconnect %q, want m30", m.Payload())
			}
		})
	}
}

func TestAckedMessagesAreNotRedeliveredAfterReconnect(t *testing.T) {
	for _, mode := range ackModes {
		t.Run(mode.name, func(t *testing.T) { testAckedNotRedelivered(t, mode.batching, mode.batchIndex) })
	}
}

func testAckedNotRedelivered(t *testing.T, batching, batchIndex bool) {
	srv := newServer(t)
	client := newClient(t, srv)
	opts := pulsar.ConsumerOptions{
		Topic: "acked", SubscriptionName: "sub", Type: pulsar.Shared,
		EnableBatchIndexAcknowledgment: batchIndex,
	}
	cons, err := client.Subscribe(opts)
	if err != nil {
		t.Fatal(err)
	}
	produceN(t, client, "acked", 10, batching)
	for i, m := range receive(t, cons, 10, 10*time.Second) {
		if i < 6 {
			if err := cons.Ack(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Acks are grouped; see them arrive before closing (a Close can
	// overtake them).
	eventually(t, 10*time.Second, "acks to arrive", func() bool {
		b, _ := srv.Backlog("acked", "sub")
		return b == 4
	})
	cons.Close()
	cons, err = client.Subscribe(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := receive(t, cons, 4, 10*time.Second)
	for i, m := range got {
		if want := "m" + strconv.Itoa(6+i); string(m.Payload()) != want {
			t.Fatalf("redelivered %q, want %q", m.Payload(), want)
		}
		if m.RedeliveryCount() != 1 {
			t.Fatalf("%q RedeliveryCount %d, want 1", m.Payload(), m.RedeliveryCount())
		}
		_ = cons.Ack(m)
	}
	ctx := ctxT(t, 300*time.Millisecond)
	if m, err := cons.Receive(ctx); err == nil {
		t.Fatalf("unexpected extra message %q", m.Payload())
	}
}

func TestReaderFromEarliest(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	produceN(t, client, "log", 20, true)
	reader, err := client.CreateReader(pulsar.ReaderOptions{Topic: "log", StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	ctx := ctxT(t, 10*time.Second)
	var got []string
	for reader.HasNext() {
		m, err := reader.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m.Payload()))
	}
	if len(got) != 20 || got[0] != "m0" || got[19] != "m19" {
		t.Fatalf("reader got %v", got)
	}
	// A reader leaves no durable subscription behind.
	reader.Close()
	eventually(t, 5*time.Second, "reader subscription to go", func() bool {
		return len(srv.Subscriptions("log")) == 0
	})
}

func TestReaderOnEmptyTopicHasNoNext(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	reader, err := client.CreateReader(pulsar.ReaderOptions{Topic: "empty", StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if reader.HasNext() {
		t.Fatal("HasNext on an empty topic")
	}
}

func TestSeek(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "seek", SubscriptionName: "sub",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	produceN(t, client, "seek", 10, false)
	msgs := receive(t, cons, 10, 10*time.Second)
	for _, m := range msgs {
		_ = cons.Ack(m)
	}
	if err := cons.Seek(msgs[3].ID()); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	m := receive(t, cons, 1, 10*time.Second)[0]
	// pulsar-client-go treats the seek position as exclusive for
	// consumers: it drops the message the broker resumes at.
	if string(m.Payload()) != "m4" {
		t.Fatalf("after seek got %q, want m4", m.Payload())
	}
}

func TestInitialPosition(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	produceN(t, client, "positions", 3, false)
	latest, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "positions", SubscriptionName: "latest",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionLatest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer latest.Close()
	earliest, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "positions", SubscriptionName: "earliest",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer earliest.Close()
	if b, _ := srv.Backlog("positions", "latest"); b != 0 {
		t.Fatalf("latest subscription backlog %d", b)
	}
	if b, _ := srv.Backlog("positions", "earliest"); b != 3 {
		t.Fatalf("earliest subscription backlog %d", b)
	}
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "positions", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, latest, 1, 10*time.Second)[0]; string(m.Payload()) != "new" {
		t.Fatalf("latest got %q", m.Payload())
	}
	var got []string
	for _, m := range receive(t, earliest, 4, 10*time.Second) {
		got = append(got, string(m.Payload()))
	}
	if fmt.Sprint(got) != "[m0 m1 m2 new]" {
		t.Fatalf("earliest got %v", got)
	}
}

func TestSharedRoundRobin(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	var consumers []pulsar.Consumer
	for i := range 3 {
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic: "rr", SubscriptionName: "sub", Type: pulsar.Shared, Name: fmt.Sprintf("c%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		consumers = append(consumers, c)
	}
	produceN(t, client, "rr", 30, false)
	// Every consumer has permits to spare, so round robin gives each
	// exactly a third.
	for i, c := range consumers {
		if got := len(receive(t, c, 10, 10*time.Second)); got != 10 {
			t.Fatalf("consumer %d got %d", i, got)
		}
	}
	if subs := srv.Subscriptions("rr"); subs[0].Unacked != 30 {
		t.Fatalf("unacked %d", subs[0].Unacked)
	}
}

// A batch redelivered after some of its messages were acknowledged
// carries the ack set, so the client hands out only the rest.
func TestPartlyAckedBatchRedelivery(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "partial", SubscriptionName: "sub", Type: pulsar.Shared,
		EnableBatchIndexAcknowledgment: true, AckWithResponse: true,
		NackRedeliveryDelay: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	// The fifth message fills the batch, so all five travel as one entry.
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "partial", BatchingMaxMessages: 5, BatchingMaxPublishDelay: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 10*time.Second)
	for i := range 5 {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte("m" + strconv.Itoa(i))}, nil)
	}
	if err := prod.FlushWithCtx(ctx); err != nil {
		t.Fatal(err)
	}
	if stored := srv.Messages("partial"); len(stored) != 5 || stored[4].BatchSize != 5 {
		t.Fatalf("expected one batch of 5, stored %+v", stored)
	}
	msgs := receive(t, cons, 5, 10*time.Second)
	for _, m := range msgs[:3] {
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := srv.Backlog("partial", "sub"); b != 2 {
		t.Fatalf("backlog %d after acking 3 of 5", b)
	}
	cons.Nack(msgs[3])
	var got []string
	for _, m := range receive(t, cons, 2, 10*time.Second) {
		got = append(got, fmt.Sprintf("%s/%d", m.Payload(), m.RedeliveryCount()))
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[m3/1 m4/1]" {
		t.Fatalf("redelivered %v, want [m3/1 m4/1]", got)
	}
	if b, _ := srv.Backlog("partial", "sub"); b != 0 {
		t.Fatalf("backlog %d", b)
	}
}
