//go:build !race

// These tests make producers reconnect, which trips the race detector on
// pulsar-client-go v0.19.0's own code (see reconnect_norace_test.go).

package pulsartest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

func TestUnloadClientsReconnect(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	a := newAdmin(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "moved", SubscriptionName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "moved", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 20*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Topics().Unload(topicName(t, "moved")); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	// Unacknowledged messages come again after the consumer reconnects,
	// as on a real broker; "after" must arrive too.
	for {
		m := receive(t, cons, 1, 20*time.Second)[0]
		if string(m.Payload()) == "after" {
			break
		}
	}
	wantCode(t, a.Topics().Unload(topicName(t, "missing")), 404)
}

func TestTerminateClosesProducers(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	a := newAdmin(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "ending", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 20*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("last")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Topics().Terminate(topicName(t, "ending")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the producer to learn the topic is terminated", func() bool {
		_, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("late")})
		return errors.Is(err, pulsar.ErrTopicTerminated) || errors.Is(err, pulsar.ErrProducerClosed)
	})
	for _, m := range srv.Messages("ending") {
		if string(m.Payload) == "late" {
			t.Fatal("a message was stored after termination")
		}
	}
}
