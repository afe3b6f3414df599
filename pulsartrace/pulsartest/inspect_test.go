package pulsartest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestInspection(t *testing.T) {
	srv := newServer(t, pulsartest.WithPartitionedTopic("tenant/ns/parted", 2))
	if err := srv.CreatePartitionedTopic("persistent://tenant/ns/parted", 2); err != nil {
		t.Fatalf("recreating with the same count: %v", err)
	}
	if err := srv.CreatePartitionedTopic("tenant/ns/parted", 3); err == nil {
		t.Fatal("changing the partition count accepted")
	}
	if err := srv.CreatePartitionedTopic("x-partition-1", 2); err == nil {
		t.Fatal("partition name accepted as a topic")
	}
	if err := srv.CreatePartitionedTopic("bad//name", 2); err == nil {
		t.Fatal("invalid name accepted")
	}
	client := newClient(t, srv)
	cons, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic: "inspect", SubscriptionName: "sub", Type: pulsar.Shared, NackRedeliveryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "inspect", Name: "inspector", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	eventTime := time.UnixMilli(1_700_000_000_000)
	id, err := prod.Send(ctxT(t, 10*time.Second), &pulsar.ProducerMessage{
		Payload: []byte("p"), Key: "k", OrderingKey: "ok", EventTime: eventTime,
		Properties: map[string]string{"a": "b"},
	})
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		"persistent://public/default/inspect",
		"persistent://tenant/ns/parted-partition-0",
		"persistent://tenant/ns/parted-partition-1",
	}
	if got := srv.Topics(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("Topics() = %v, want %v", got, want)
	}
	msgs := srv.Messages("persistent://public/default/inspect")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.ID.LedgerID != id.LedgerID() || m.ID.EntryID != id.EntryID() || m.ID.Partition != id.PartitionIdx() ||
		m.ID.BatchIndex != -1 || m.ID.String() != id.String() {
		t.Fatalf("stored id %v, client id %v", m.ID, id)
	}
	if m.Key != "k" || string(m.OrderingKey) != "ok" || !m.EventTime.Equal(eventTime) ||
		m.ProducerName != "inspector" || m.Properties["a"] != "b" || m.BatchSize != 0 || m.Compression != "NONE" {
		t.Fatalf("stored %+v", m)
	}
	if len(srv.Messages("no-such-topic")) != 0 || len(srv.Messages("bad//name")) != 0 {
		t.Fatal("messages for a topic that does not exist")
	}

	got := receive(t, cons, 1, 10*time.Second)[0]
	cons.Nack(got)
	again := receive(t, cons, 1, 10*time.Second)[0]
	if n := srv.RedeliveryCount("inspect", "sub", m.ID); n != 1 || again.RedeliveryCount() != 1 {
		t.Fatalf("RedeliveryCount = %d, client saw %d", n, again.RedeliveryCount())
	}
	subs := srv.Subscriptions("inspect")
	if len(subs) != 1 || subs[0].Type != "Shared" || !subs[0].Durable || subs[0].Consumers != 1 ||
		subs[0].Backlog != 1 || subs[0].Unacked != 1 || subs[0].Redelivered != 1 {
		t.Fatalf("Subscriptions() = %+v", subs)
	}
	if _, ok := srv.Backlog("inspect", "nope"); ok {
		t.Fatal("Backlog reports a missing subscription")
	}
	if srv.RedeliveryCount("inspect", "nope", m.ID) != 0 {
		t.Fatal("redelivery count for a missing subscription")
	}
}

const orderSchemaV2 = `{"type":"record","name":"order","fields":[{"name":"id","type":"int"},{"name":"item","type":"string"},{"name":"count","type":"int"},{"name":"note","type":["null","string"],"default":null}]}`

func TestSchemaPerMessage(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv)
	v1 := pulsar.NewJSONSchema(orderSchema, nil)
	v2 := pulsar.NewJSONSchema(orderSchemaV2, nil)
	// Batching on: pulsar-client-go v0.19.0 writes the schema version only
	// into batched messages' metadata.
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "evolve", Schema: v1})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 10*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Value: order{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	// A message with another schema makes the client register it
	// (GET_OR_CREATE_SCHEMA) and tag the message with the new version.
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Value: order{ID: 2}, Schema: v2}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages("evolve")
	if len(msgs) != 2 || len(msgs[0].SchemaVersion) == 0 || bytes.Equal(msgs[0].SchemaVersion, msgs[1].SchemaVersion) {
		t.Fatalf("schema versions %x and %x", msgs[0].SchemaVersion, msgs[1].SchemaVersion)
	}
	// Consumers fetch the writer's schema by version (GET_SCHEMA).
	reader, err := client.CreateReader(pulsar.ReaderOptions{
		Topic: "evolve", StartMessageID: pulsar.EarliestMessageID(), Schema: pulsar.NewJSONSchema(orderSchemaV2, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for want := 1; want <= 2; want++ {
		m, err := reader.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var o order
		if err := m.GetSchemaValue(&o); err != nil || o.ID != want {
			t.Fatalf("message %d: %+v, %v", want, o, err)
		}
	}
}
