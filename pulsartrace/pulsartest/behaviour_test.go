package pulsartest_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// SeekByTime makes the broker drop the reader's consumer; the reader comes
// back asking for its original start position, which must not undo the
// seek.
func TestReaderSeekByTimeSurvivesReconnect(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	produce(t, client, "timed", "old-0", "old-1", "old-2")
	time.Sleep(20 * time.Millisecond) // publish times have millisecond resolution
	cut := time.Now()
	time.Sleep(20 * time.Millisecond)
	produce(t, client, "timed", "new-0", "new-1")
	reader, err := client.CreateReader(pulsar.ReaderOptions{Topic: "timed", StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := reader.SeekByTime(cut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"new-0", "new-1"} {
		m, err := reader.Next(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload()) != want {
			t.Fatalf("after SeekByTime read %q, want %q", m.Payload(), want)
		}
	}
}

func TestDeadLetterInitialSubscription(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "work", SubscriptionName: "workers", Type: pulsar.Shared,
		NackRedeliveryDelay: 10 * time.Millisecond,
		DLQ: &pulsar.DLQPolicy{
			MaxDeliveries: 1, DeadLetterTopic: "work-dlq", InitialSubscriptionName: "inspect",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	produce(t, client, "work", "poison")
	m := receive(t, cons, 1, 10*time.Second)[0]
	cons.Nack(m)
	// The dead-letter producer asked for the subscription when it was
	// created, so the message waits there for someone to look at it.
	eventually(t, 10*time.Second, "the dead letter on its initial subscription", func() bool {
		n, ok := srv.Backlog("work-dlq", "inspect")
		return ok && n == 1
	})
}

type activeRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *activeRecorder) BecameActive(_ pulsar.Consumer, _ string, _ int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "active")
}

func (r *activeRecorder) BecameInactive(_ pulsar.Consumer, _ string, _ int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "inactive")
}

func (r *activeRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return ""
	}
	return r.events[len(r.events)-1]
}

func TestFailoverActiveConsumerChange(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	subscribe := func(name string, l pulsar.ConsumerEventListener) pulsar.Consumer {
		t.Helper()
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic: "fo", SubscriptionName: "s", Type: pulsar.Failover, Name: name, EventListener: l,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first, second := &activeRecorder{}, &activeRecorder{}
	a := subscribe("a", first)
	defer a.Close()
	eventually(t, 10*time.Second, "the first consumer to become active", func() bool { return first.last() == "active" })
	b := subscribe("b", second)
	eventually(t, 10*time.Second, "the second consumer to be told it is inactive", func() bool { return second.last() == "inactive" })
	// The active consumer leaves: the other one takes over.
	a.Close()
	eventually(t, 10*time.Second, "the second consumer to become active", func() bool { return second.last() == "active" })
	b.Close()
}

func TestRegexSubscriptionIgnoresOtherDomain(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	produce(t, client, "persistent://public/default/ev-a", "x")
	produce(t, client, "non-persistent://public/default/ev-b", "y")
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		TopicsPattern: "persistent://public/default/ev-.*", SubscriptionName: "s",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if got := receive(t, cons, 1, 10*time.Second); string(got[0].Payload()) != "x" {
		t.Fatalf("received %q", got[0].Payload())
	}
	if subs := srv.Subscriptions("non-persistent://public/default/ev-b"); len(subs) != 0 {
		t.Fatalf("a persistent pattern subscribed to a non-persistent topic: %+v", subs)
	}
}

func TestExclusiveProducerAccess(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	first, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "solo", ProducerAccessMode: pulsar.ProducerAccessModeExclusive})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CreateProducer(pulsar.ProducerOptions{Topic: "solo", ProducerAccessMode: pulsar.ProducerAccessModeExclusive})
	if err == nil || !strings.Contains(err.Error(), "ProducerFenced") {
		t.Fatalf("second exclusive producer: %v, want ProducerFenced", err)
	}
	_, err = client.CreateProducer(pulsar.ProducerOptions{Topic: "solo"})
	if err == nil || !strings.Contains(err.Error(), "ProducerBusy") {
		t.Fatalf("shared producer next to an exclusive one: %v, want ProducerBusy", err)
	}

	// A WaitForExclusive producer is created once the exclusive one goes.
	type result struct {
		p   pulsar.Producer
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "solo", ProducerAccessMode: pulsar.ProducerAccessModeWaitForExclusive})
		done <- result{p, err}
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("WaitForExclusive producer created while another holds the topic: %v", r.err)
	default:
	}
	first.Close()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.p.Close()
	if _, err := r.p.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte("mine")}); err != nil {
		t.Fatal(err)
	}
}

func TestUpdatePartitionsReachesClients(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("grow", 1))
	client := newClient(t, srv)
	a := newAdmin(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "grow", SubscriptionName: "s", AutoDiscoveryPeriod: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "grow", PartitionsAutoDiscoveryInterval: 50 * time.Millisecond, DisableBatching: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := a.Topics().Update(topicName(t, "grow"), 3); err != nil {
		t.Fatal(err)
	}
	sent := 0
	eventually(t, 10*time.Second, "messages on the new partitions", func() bool {
		if _, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte("m")}); err != nil {
			t.Fatal(err)
		}
		sent++
		for _, m := range srv.Messages("grow") {
			if m.ID.Partition == 2 {
				return true
			}
		}
		return false
	})
	receive(t, cons, sent, 10*time.Second)
	subs, err := a.Subscriptions().List(topicName(t, "persistent://public/default/grow-partition-2"))
	if err != nil || !slices.Contains(subs, "s") {
		t.Fatalf("subscriptions of a new partition: %v, %v", subs, err)
	}
}
