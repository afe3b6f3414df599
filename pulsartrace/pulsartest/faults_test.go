package pulsartest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// Consumers reconnect after a cut and get back every message they had not
// acknowledged. No producer is connected during the cut, so this runs
// under the race detector too (see reconnect_norace_test.go for producers).
func TestDropConnectionsConsumerReconnects(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "drop", SubscriptionName: "sub", Type: pulsar.Shared,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	produceN(t, client, "drop", 20, false)
	for _, m := range receive(t, cons, 10, 10*time.Second) {
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	// Acks are flushed every 100 ms; wait until the broker has them so the
	// cut cannot lose one.
	eventually(t, 5*time.Second, "acks to arrive", func() bool {
		b, _ := srv.Backlog("drop", "sub")
		return b == 10
	})
	if n := srv.DropConnections(); n == 0 {
		t.Fatal("no connection dropped")
	}
	seen := map[string]bool{}
	ctx := ctxT(t, 20*time.Second)
	for len(seen) < 10 {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatalf("Receive after drop (have %d): %v", len(seen), err)
		}
		i, _ := strconv.Atoi(string(m.Payload()[1:]))
		if i < 10 {
			t.Fatalf("acknowledged message %q delivered again", m.Payload())
		}
		seen[string(m.Payload())] = true
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "backlog to drain", func() bool {
		b, _ := srv.Backlog("drop", "sub")
		return b == 0
	})
}

func TestFailNextSendsWithoutProducer(t *testing.T) {
	// Arming the fault without traffic changes nothing stored.
	srv := newServer(t)
	srv.FailNextSends(1)
	srv.FailNextSends(0)
	client := newClient(t, srv)
	produceN(t, client, "nofault", 3, false)
	if got := len(srv.Messages("nofault")); got != 3 {
		t.Fatalf("stored %d, want 3", got)
	}
}

func TestSendDelayCausesSendTimeout(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: "slow", DisableBatching: true, SendTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	srv.SetSendDelay(time.Second)
	_, err = prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{Payload: []byte("x")})
	if err == nil {
		t.Fatal("Send succeeded despite the delay")
	}
	srv.SetSendDelay(0)
}
