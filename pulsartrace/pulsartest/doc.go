// Package pulsartest is an in-process Apache Pulsar broker for tests.
//
// It speaks the Pulsar binary protocol over TCP on 127.0.0.1, so the real
// github.com/apache/pulsar-client-go client (v0.19.0) connects to it exactly
// as to a broker: no mocks of the client API, no containers.
//
//	func TestOrders(t *testing.T) {
//		srv := pulsartest.NewServer(t) // closed by t.Cleanup; or Start and Close
//		client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL()})
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer client.Close()
//		// ... produce and consume as in production code, then check what
//		// the broker saw:
//		for _, m := range srv.Messages("orders") {
//			t.Log(m.ID, m.Properties["traceparent"], string(m.Payload))
//		}
//	}
//
// A TestMain that checks for goroutine leaks must ignore a few goroutines
// of the client itself:
//
//	func TestMain(m *testing.M) {
//		var opts []goleak.Option
//		for _, fn := range pulsartest.KnownClientGoroutines() {
//			opts = append(opts, goleak.IgnoreTopFunction(fn))
//		}
//		goleak.VerifyTestMain(m, opts...)
//	}
//
// Topics and subscriptions are created on first use, like a broker with
// auto topic creation; partitioned topics are declared with
// WithPartitionedTopic or Server.CreatePartitionedTopic. Everything is kept
// in memory and lost on Close.
//
// # What it supports
//
//   - connect and keepalive (PING/PONG both ways), topic lookup and
//     partitioned-topic metadata; topic names short ("orders"),
//     "tenant/ns/orders", fully qualified, and partitions ("-partition-N");
//   - producers with and without batching, any compression, chunking:
//     messages are stored and forwarded byte for byte, never rewritten;
//     send receipts echo sequence ids (first and highest of a batch); a
//     producer name is refused (ProducerBusy) while another producer of the
//     topic uses it;
//   - Exclusive, Shared (round robin), Failover and Key_Shared (by key
//     hash) subscriptions, initial position earliest or latest; flow
//     permits counted per message (a batch costs one per message);
//   - individual, cumulative and batch-index acknowledgements, acks with
//     receipt (AckWithResponse), negative acks; a message is redelivered
//     with an incremented RedeliveryCount when it is nacked or when its
//     consumer goes away unacknowledged, so dead-letter and retry topics
//     (DLQPolicy, ReconsumeLater), which the client implements by producing
//     to other topics, work as on a real broker;
//   - delayed delivery (DeliverAfter, DeliverAt) on Shared and Key_Shared
//     subscriptions, like brokers; other subscription types get such
//     messages at once;
//   - unsubscribe, seek by message id or publish time, readers
//     (non-durable subscriptions, GET_LAST_MESSAGE_ID), schemas
//     (GET_SCHEMA, GET_OR_CREATE_SCHEMA, versions in PRODUCER_SUCCESS; any
//     schema change is accepted), regex subscriptions
//     (GET_TOPICS_OF_NAMESPACE).
//
// # What it does not support
//
// Transactions, authentication and authorization (credentials in CONNECT
// are accepted unchecked), TLS, message
// deduplication, producer access modes, compaction, replication, retention
// limits, schema compatibility checks, non-persistent semantics
// (non-persistent topics are stored like persistent ones) and the admin
// REST API. An unsupported command gets a
// protocol ERROR (NotAllowedError, naming the command), so the client fails
// the operation instead of waiting for a timeout. A malformed frame ends
// that connection only.
//
// # Inspecting and breaking things
//
// Messages returns what a topic stores (payload decompressed, batches split,
// properties, key, ids, producer, publish time); Subscriptions and Backlog
// show each subscription's unacknowledged messages and redeliveries;
// RedeliveryCount and Topics round it off. DropConnections cuts every
// client connection (the client reconnects and resends what was not
// acknowledged), FailNextSends makes sends fail with an error returned
// from Send, and SetSendDelay slows sends down to provoke send timeouts.
//
// # Known client behaviour
//
// pulsar-client-go v0.19.0 has a data race in its producer reconnect path
// (partitionProducer.grabCnx writes the producer name while the event loop
// reads it): tests that make a producer with sends in flight reconnect
// (DropConnections or FailNextSends) get race reports for the client's
// code, not this package's. Keep such tests in files built with the !race
// constraint.
//
// The same client leaves goroutines behind that goroutine-leak checks see:
// timer-bound ones after Close (see KnownClientGoroutines), a consumer's
// goroutines after a successful Unsubscribe (Close is then a no-op), and
// the connection pool of a NewClient call that fails.
//
// Acknowledgements are grouped by the client and sent every 100 ms, on
// another path than CLOSE_CONSUMER: even Consumer.Close can overtake acks
// it flushes, and the broker then hands those messages out again, as a
// real broker would. When a test depends on the broker having seen an ack,
// use ConsumerOptions.AckWithResponse or wait until Backlog reflects it.
// Negative acks are redelivered after NackRedeliveryDelay, one minute by
// default; set it small in tests. Without batching, v0.19.0 does not put
// the schema version into a message's metadata.
package pulsartest
