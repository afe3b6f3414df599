package pulsartest_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// NewClient fails here but leaves its connection pool goroutine behind
// (a pulsar-client-go v0.19.0 bug); TestMain ignores exactly that
// goroutine.
func TestUnsupportedFeatureFailsFast(t *testing.T) {
	srv := newServer(t)
	start := time.Now()
	// Transactions need a coordinator the broker does not have; the client
	// must get an error, not hang.
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL: srv.URL(), EnableTransaction: true, OperationTimeout: 30 * time.Second, Logger: quietLogger(),
	})
	if err == nil {
		c.Close()
		t.Fatal("NewClient with transactions succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("failure took %v", d)
	}
}

type order struct {
	ID    int    `json:"id"`
	Item  string `json:"item"`
	Count int    `json:"count"`
}

const orderSchema = `{"type":"record","name":"order","fields":[{"name":"id","type":"int"},{"name":"item","type":"string"},{"name":"count","type":"int"}]}`

func TestJSONSchema(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "orders-json", Schema: pulsar.NewJSONSchema(orderSchema, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "orders-json", SubscriptionName: "sub", Schema: pulsar.NewJSONSchema(orderSchema, nil),
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	want := order{ID: 7, Item: "tea", Count: 3}
	if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Value: want}); err != nil {
		t.Fatal(err)
	}
	m := receive(t, cons, 1, 10*time.Second)[0]
	var got order
	if err := m.GetSchemaValue(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if len(m.SchemaVersion()) == 0 {
		t.Fatal("message without schema version")
	}
}

func TestDeadLetterAndRetryTopics(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "jobs", SubscriptionName: "sub", Type: pulsar.Shared,
		NackRedeliveryDelay: 20 * time.Millisecond,
		RetryEnable:         true,
		DLQ: &pulsar.DLQPolicy{
			MaxDeliveries:    2,
			DeadLetterTopic:  "jobs-dlq",
			RetryLetterTopic: "jobs-retry",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "jobs", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{
		Payload: []byte("job"), Properties: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	}); err != nil {
		t.Fatal(err)
	}
	// Every delivery is sent to the retry topic until the policy gives up
	// and the client moves the message to the dead-letter topic.
	ctx := ctxT(t, 20*time.Second)
	for {
		if len(srv.Messages("jobs-dlq")) > 0 {
			break
		}
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatalf("Receive: %v (dlq %d, retry %d)", err, len(srv.Messages("jobs-dlq")), len(srv.Messages("jobs-retry")))
		}
		cons.ReconsumeLater(m, 10*time.Millisecond)
		// Stop once the DLQ message shows up; the client writes it
		// asynchronously.
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) && len(srv.Messages("jobs-dlq")) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	dlq := srv.Messages("jobs-dlq")
	if string(dlq[0].Payload) != "job" || dlq[0].Properties["traceparent"] == "" {
		t.Fatalf("dead letter %+v", dlq[0])
	}
	if len(srv.Messages("jobs-retry")) == 0 {
		t.Fatal("nothing on the retry topic")
	}
}

func TestKeySharedKeepsKeysTogether(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	var consumers []pulsar.Consumer
	for i := range 2 {
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic: "keyed", SubscriptionName: "sub", Type: pulsar.KeyShared, Name: fmt.Sprintf("c%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		consumers = append(consumers, c)
	}
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "keyed", BatcherBuilderType: pulsar.KeyBasedBatchBuilder,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 200
	ctx := ctxT(t, 20*time.Second)
	for i := range n {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Key: "k" + strconv.Itoa(i%10), Payload: []byte(strconv.Itoa(i))}, nil)
	}
	if err := prod.FlushWithCtx(ctx); err != nil {
		t.Fatal(err)
	}
	owner := map[string]int{}
	total := 0
	for total < n {
		progressed := false
		for ci, c := range consumers {
			rctx := ctxT(t, 50*time.Millisecond)
			m, err := c.Receive(rctx)
			if err != nil {
				continue
			}
			progressed = true
			total++
			if prev, ok := owner[m.Key()]; ok && prev != ci {
				t.Fatalf("key %s went to consumers %d and %d", m.Key(), prev, ci)
			}
			owner[m.Key()] = ci
			_ = c.Ack(m)
		}
		if !progressed && ctx.Err() != nil {
			t.Fatalf("received %d of %d", total, n)
		}
	}
}

func TestFailoverHasOneActiveConsumer(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	opts := func(name string) pulsar.ConsumerOptions {
		return pulsar.ConsumerOptions{Topic: "failover", SubscriptionName: "sub", Type: pulsar.Failover, Name: name}
	}
	a, err := client.Subscribe(opts("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.Subscribe(opts("b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	produceN(t, client, "failover", 5, false)
	for _, m := range receive(t, a, 5, 10*time.Second) {
		_ = a.Ack(m)
	}
	if m, err := b.Receive(ctxT(t, 200*time.Millisecond)); err == nil {
		t.Fatalf("standby consumer got %q", m.Payload())
	}
	a.Close()
	produceN(t, client, "failover", 1, false)
	if m := receive(t, b, 1, 10*time.Second)[0]; string(m.Payload()) != "m0" {
		t.Fatalf("after failover got %q", m.Payload())
	}
}

func TestExclusiveRejectsSecondConsumer(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	c, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "excl", SubscriptionName: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c2, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "excl", SubscriptionName: "sub"}); err == nil {
		c2.Close()
		t.Fatal("second exclusive consumer accepted")
	}
}

func TestManyClientsAndProducers(t *testing.T) {
	srv := newServer(t)
	consClient := newClient(t, srv)
	cons, err := consClient.Subscribe(pulsar.ConsumerOptions{Topic: "fanin", SubscriptionName: "sub", Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	const clients, each = 4, 100
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			c, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: quietLogger()})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			p, err := c.CreateProducer(pulsar.ProducerOptions{Topic: "fanin", Name: fmt.Sprintf("p%d", i)})
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			for j := range each {
				p.SendAsync(ctxT(t, 20*time.Second), &pulsar.ProducerMessage{Payload: []byte(fmt.Sprintf("%d-%d", i, j))}, nil)
			}
			errs <- p.FlushWithCtx(ctxT(t, 20*time.Second))
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, m := range receive(t, cons, clients*each, 20*time.Second) {
		seen[string(m.Payload())] = true
		_ = cons.Ack(m)
	}
	if len(seen) != clients*each {
		t.Fatalf("distinct %d", len(seen))
	}
	producers := map[string]int{}
	for _, m := range srv.Messages("fanin") {
		producers[m.ProducerName]++
	}
	for i := range clients {
		if producers[fmt.Sprintf("p%d", i)] != each {
			t.Fatalf("per producer %v", producers)
		}
	}
}

func TestChunkedMessage(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "chunks", SubscriptionName: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "chunks", DisableBatching: true, EnableChunking: true, ChunkMaxMessageSize: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	payload := make([]byte, 10_500)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: payload}); err != nil {
		t.Fatal(err)
	}
	m := receive(t, cons, 1, 10*time.Second)[0]
	if !bytes.Equal(m.Payload(), payload) {
		t.Fatalf("reassembled %d bytes, want %d", len(m.Payload()), len(payload))
	}
	if n := len(srv.Messages("chunks")); n < 11 {
		t.Fatalf("stored %d chunks", n)
	}
	if err := cons.Ack(m); err != nil {
		t.Fatal(err)
	}
	// Acking a chunked message acknowledges every chunk.
	eventually(t, 10*time.Second, "all chunks acknowledged", func() bool {
		b, _ := srv.Backlog("chunks", "sub")
		return b == 0
	})
}

func TestTopicsPattern(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	produceN(t, client, "rx-a", 1, false) // topics must exist for discovery
	produceN(t, client, "rx-b", 1, false)
	produceN(t, client, "other", 1, false)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		TopicsPattern: "persistent://public/default/rx-.*", SubscriptionName: "sub",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := map[string]bool{}
	for _, m := range receive(t, cons, 2, 10*time.Second) {
		got[m.Topic()] = true
		_ = cons.Ack(m)
	}
	if !got["persistent://public/default/rx-a"] || !got["persistent://public/default/rx-b"] {
		t.Fatalf("topics %v", got)
	}
}

func TestSeekByTime(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "seektime", SubscriptionName: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	produceN(t, client, "seektime", 3, false)
	time.Sleep(20 * time.Millisecond) // publish times have millisecond resolution
	mark := time.Now()
	time.Sleep(20 * time.Millisecond)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "seektime", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range receive(t, cons, 4, 10*time.Second) {
		_ = cons.Ack(m)
	}
	if err := cons.SeekByTime(mark); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, cons, 1, 10*time.Second)[0]; string(m.Payload()) != "late" {
		t.Fatalf("after seek by time got %q", m.Payload())
	}
}

func TestDelayedDelivery(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "later", SubscriptionName: "sub", Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "later", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 10*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("late"), DeliverAfter: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("now")}); err != nil {
		t.Fatal(err)
	}
	first := receive(t, cons, 1, 10*time.Second)[0]
	if string(first.Payload()) != "now" {
		t.Fatalf("first delivered %q, want the undelayed message", first.Payload())
	}
	_ = cons.Ack(first)
	sent := time.Now()
	second := receive(t, cons, 1, 10*time.Second)[0]
	if string(second.Payload()) != "late" || second.RedeliveryCount() != 0 {
		t.Fatalf("second delivered %q (count %d)", second.Payload(), second.RedeliveryCount())
	}
	// Generous lower bound only: it must not have arrived right away.
	if time.Since(sent) < time.Second {
		t.Fatalf("delayed message arrived after %v", time.Since(sent))
	}
	if b, _ := srv.Backlog("later", "sub"); b != 1 {
		t.Fatalf("backlog %d before the ack, want 1", b)
	}
	_ = cons.Ack(second)
}

func TestDuplicateProducerNameIsRefused(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	p1, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "named", Name: "only-one"})
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "named", Name: "only-one"}); err == nil {
		p2.Close()
		t.Fatal("second producer with the same name accepted")
	}
	p1.Close()
	p3, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "named", Name: "only-one"})
	if err != nil {
		t.Fatalf("name not released by Close: %v", err)
	}
	p3.Close()
}

func TestSchemaOnPartitionedTopic(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("typed", 3))
	client := newClient(t, srv)
	schema := pulsar.NewJSONSchema(orderSchema, nil)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "typed", SubscriptionName: "sub", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "typed", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 10*time.Second)
	for i := range 9 {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Key: strconv.Itoa(i), Value: order{ID: i}}, nil)
	}
	if err := prod.FlushWithCtx(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, m := range receive(t, cons, 9, 10*time.Second) {
		var o order
		if err := m.GetSchemaValue(&o); err != nil {
			t.Fatal(err)
		}
		seen[o.ID] = true
	}
	versions := map[string]bool{}
	for _, m := range srv.Messages("typed") {
		versions[string(m.SchemaVersion)] = true
	}
	if len(seen) != 9 || len(versions) != 1 {
		t.Fatalf("decoded %v, schema versions %d", seen, len(versions))
	}
}
