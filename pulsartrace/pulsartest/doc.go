// Package pulsartest is an in-process Apache Pulsar broker for tests.
//
// It speaks the Pulsar binary protocol over TCP on 127.0.0.1, so the real
// github.com/apache/pulsar-client-go client (v0.19.0) connects to it exactly
// as to a broker: no mocks of the client API, no containers.
//
//	srv := pulsartest.NewServer(t) // or Start() and Close()
//	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL()})
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
//     send receipts echo sequence ids (first and highest of a batch);
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
// Transactions, authentication and authorization, TLS, message
// deduplication, compaction, replication, retention limits, schema compatibility
// checks, non-persistent semantics (non-persistent topics are stored like
// persistent ones) and the admin REST API. An unsupported command gets a
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
// Acknowledgements are grouped by the client and sent every 100 ms: an Ack
// immediately followed by Client.Close without closing the consumer first
// can be lost. Close the consumer (which flushes acks) or use
// AckWithResponse when a test depends on the broker having seen an ack.
// Negative acks are redelivered after NackRedeliveryDelay, one minute by
// default; set it small in tests.
package pulsartest
