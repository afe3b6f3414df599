//go:build !race

// pulsar-client-go v0.19.0 has a data race between a producer's reconnect
// and its event loop: partitionProducer.grabCnx (producer_partition.go:348)
// writes the producer name and topic epoch while the event loop reads them
// to serialize a send. The race detector reports the client's own code
// whenever a producer reconnects with sends in flight. These tests make producers reconnect on
// purpose and therefore run only without -race; nothing in them exercises
// server code that the race-enabled tests do not also cover.

package pulsartest_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

func TestDropConnectionsLosesNoAcknowledgedMessage(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "cut", SubscriptionName: "sub", Type: pulsar.Shared,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "cut", BatchingMaxPublishDelay: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	const n = 500
	ctx := ctxT(t, 30*time.Second)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for i := range n {
		if i == n/2 {
			srv.DropConnections()
		}
		wg.Add(1)
		payload := "m" + strconv.Itoa(i)
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte(payload)},
			func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
				defer wg.Done()
				if err == nil {
					mu.Lock()
					acked[payload] = true
					mu.Unlock()
				}
			})
	}
	wg.Wait()
	// The client resends everything unacknowledged after reconnecting, so
	// every send succeeds within the default send timeout.
	if len(acked) != n {
		t.Fatalf("%d of %d sends acknowledged", len(acked), n)
	}
	stored := map[string]bool{}
	for _, m := range srv.Messages("cut") {
		stored[string(m.Payload)] = true
	}
	for p := range acked {
		if !stored[p] {
			t.Fatalf("acknowledged %s not stored", p)
		}
	}
	received := map[string]bool{}
	rctx := ctxT(t, 30*time.Second)
	for len(received) < len(stored) {
		m, err := cons.Receive(rctx)
		if err != nil {
			t.Fatalf("received %d of %d: %v", len(received), len(stored), err)
		}
		received[string(m.Payload())] = true
		_ = cons.Ack(m)
	}
}

func TestFailNextSendsReturnsError(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "fail", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 20*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	srv.FailNextSends(1)
	_, err = prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("failed")})
	if !errors.Is(err, pulsar.ErrProducerBlockedQuotaExceeded) {
		t.Fatalf("Send error = %v, want ErrProducerBlockedQuotaExceeded", err)
	}
	// The producer recovers by itself.
	var last error
	for range 50 {
		if _, last = prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("after")}); last == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != nil {
		t.Fatalf("producer did not recover: %v", last)
	}
	var got []string
	for _, m := range srv.Messages("fail") {
		got = append(got, string(m.Payload))
	}
	if len(got) < 2 || got[0] != "before" || got[len(got)-1] != "after" {
		t.Fatalf("stored %v", got)
	}
	for _, p := range got {
		if p == "failed" {
			t.Fatalf("failed send was stored: %v", got)
		}
	}
}

func TestFailNextSendsFailsWholeBatch(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "failbatch", BatchingMaxPublishDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	srv.FailNextSends(1)
	ctx := ctxT(t, 20*time.Second)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte{byte(i)}},
			func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) { errs <- err })
	}
	for range n {
		if err := <-errs; !errors.Is(err, pulsar.ErrProducerBlockedQuotaExceeded) {
			t.Fatalf("send error %v", err)
		}
	}
	if got := len(srv.Messages("failbatch")); got != 0 {
		t.Fatalf("%d failed messages stored", got)
	}
}
