// Package pulsartest is an in-memory Apache Pulsar broker for tests and
// local development.
//
// It speaks the Pulsar binary protocol over TCP, so the real
// github.com/apache/pulsar-client-go client (v0.19.0) connects to it exactly
// as to a broker: no mocks of the client API, no containers. A second
// address serves the admin REST API that the real admin client
// (github.com/apache/pulsar-client-go/pulsaradmin) speaks, and the HTTP
// lookup, so a client may also be given the http:// URL.
//
//	func TestOrders(t *testing.T) {
//		srv := pulsartest.NewServer(t) // closed by t.Cleanup; or Start and Close
//		client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL()})
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer client.Close()
//		admin, _ := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: srv.AdminURL()})
//		// ... produce and consume as in production code, then check what
//		// the broker saw:
//		for _, m := range srv.Messages("orders") {
//			t.Log(m.ID, m.Properties["traceparent"], string(m.Payload))
//		}
//	}
//
// By default both listen on free loopback ports; WithListenAddress and
// WithAdminAddress choose others, WithMaxMessageSize the largest message
// accepted (announced to clients when they connect, 5 MiB by default).
// Everything is kept in memory and lost on Close.
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
// # Standalone
//
// The command runs the broker as a process, for local development or for
// programs in other languages:
//
//	go run github.com/asynctrace/asynctrace/pulsartrace/pulsartest/cmd/pulsartest \
//		--listen 127.0.0.1:6650 --admin 127.0.0.1:8080 --max-message-size 5242880
//
// It prints both URLs and stops cleanly on SIGINT or SIGTERM.
//
// Topics and subscriptions are created on first use, like a broker with
// auto topic creation, and so are the tenant and namespace of a topic a
// client uses; the tenant "public" with the namespace "public/default"
// exists from the start. Partitioned topics are declared with
// WithPartitionedTopic, Server.CreatePartitionedTopic or the admin API.
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
//   - producer access modes: a second Exclusive producer is fenced
//     (ProducerFenced), a Shared one refused (ProducerBusy) while an
//     exclusive producer holds the topic, WaitForExclusive producers wait
//     in line for the topic, ExclusiveWithFencing takes it over and closes
//     the others; topic epochs are kept across reconnections;
//   - Exclusive, Shared (round robin), Failover and Key_Shared (by key
//     hash) subscriptions, initial position earliest or latest; flow
//     permits counted per message (a batch costs one per message);
//     Failover consumers are told whether they are active
//     (ACTIVE_CONSUMER_CHANGE after their first FLOW and on every change,
//     so ConsumerEventListener works);
//   - individual, cumulative and batch-index acknowledgements, acks with
//     receipt (AckWithResponse), negative acks; a message is redelivered
//     with an incremented RedeliveryCount when it is nacked or when its
//     consumer goes away unacknowledged, so dead-letter and retry topics
//     (DLQPolicy, ReconsumeLater), which the client implements by producing
//     to other topics, work as on a real broker; a producer's initial
//     subscription (DLQPolicy.InitialSubscriptionName) is created with the
//     producer and keeps what it writes;
//   - delayed delivery (DeliverAfter, DeliverAt) on Shared and Key_Shared
//     subscriptions, like brokers; other subscription types get such
//     messages at once;
//   - unsubscribe, seek by message id or publish time (a reader keeps the
//     position it sought when it reconnects), readers (non-durable
//     subscriptions, GET_LAST_MESSAGE_ID), schemas (GET_SCHEMA,
//     GET_OR_CREATE_SCHEMA, versions in PRODUCER_SUCCESS; any schema change
//     is accepted), regex subscriptions (GET_TOPICS_OF_NAMESPACE, honouring
//     the persistent/non-persistent mode);
//   - topic termination: producers are closed and refused
//     (TopicTerminated), readers see the end through HasNext, consumers of
//     other clients get REACHED_END_OF_TOPIC once they have read everything
//     (pulsar-client-go v0.19.0 drops its connection on that command, so
//     its consumers are not sent it);
//   - backlog quotas (destination_storage by bytes, message_age by
//     seconds) on a topic or a namespace: over the quota, producers are
//     refused with ProducerBlockedQuotaExceededError
//     (producer_request_hold: the client keeps its messages and retries) or
//     ProducerBlockedQuotaExceededException (producer_exception: pending
//     sends fail), and attached producers are disconnected; a broker checks
//     once a minute, this one after every message. consumer_backlog_eviction
//     is stored but not enforced;
//   - unloading a topic or namespace (clients reconnect) and growing a
//     partitioned topic (the new partitions get the existing
//     subscriptions; clients find them with their partition discovery).
//
// # Admin API
//
// The admin API answers under /admin/v2 as a broker does, with a broker's
// status codes and {"reason": ...} bodies for failures (404 for a tenant,
// namespace, topic, subscription, schema or message that does not exist,
// 409 for one that already does, 412 for one still in use), so that
// pulsaradmin returns its usual rest.Error values:
//
//   - tenants: list, get, create, update, delete;
//   - namespaces: list, get, create, delete, list topics (mode
//     PERSISTENT, NON_PERSISTENT or ALL), unload, backlog quota get, set,
//     remove;
//   - topics (persistent and non-persistent): list, list partitioned,
//     create, delete, create partitioned, update partition count, get
//     partitioned metadata, delete partitioned, stats, partitioned stats,
//     internal stats, last message id, message id by time, message by
//     ledger and entry id, unload, terminate, backlog quota get, set,
//     remove;
//   - subscriptions: list, create at a position, delete, reset cursor to
//     a message id or a time, skip, clear backlog, peek;
//   - schemas: get (latest, by version, all), upload, delete, version of a
//     schema, compatibility (always compatible);
//   - the HTTP lookup (/lookup/v2/topic/...) and what a client with an
//     http:// service URL needs besides it (partitioned metadata, topics of
//     a namespace, schemas).
//
// Stats count messages and bytes; rates are always zero.
//
// # What it does not support
//
// Persistence (everything is in memory), transactions, authentication and
// authorization (credentials in CONNECT are accepted unchecked), TLS,
// message deduplication, compaction, replication, retention limits,
// schema compatibility checks, non-persistent semantics (non-persistent
// topics are stored like persistent ones), and the admin API beyond the
// list above (functions, sinks, sources, clusters, brokers, policies
// other than backlog quotas). An unsupported command gets a protocol ERROR
// (NotAllowedError, naming the command), so the client fails the
// operation instead of waiting for a timeout. A malformed frame, or one
// larger than the max message size allows, ends that connection only; an
// unknown admin path gets a 404 reply.
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
