package pulsartest

import (
	"fmt"
	"slices"
	"time"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// MessageID identifies a stored message with the numbers pulsar-client-go
// gives it: compare with pulsar.MessageID's LedgerID, EntryID, BatchIdx and
// PartitionIdx.
type MessageID struct {
	LedgerID   int64
	EntryID    int64
	BatchIndex int32 // -1 for a message sent without batching
	// Partition is the partition index; 0 for a non-partitioned topic, as
	// in the client's ids.
	Partition int32
}

// String formats the id as pulsar.MessageID.String does,
// "ledger:entry:partition".
func (id MessageID) String() string {
	return fmt.Sprintf("%d:%d:%d", id.LedgerID, id.EntryID, id.Partition)
}

// Message is one stored message as a test sees it: batches are split into
// their messages and compressed payloads are decompressed.
type Message struct {
	// Topic is the full topic name, with the partition suffix for a
	// partition of a partitioned topic.
	Topic        string
	ID           MessageID
	Payload      []byte
	Properties   map[string]string
	Key          string
	OrderingKey  []byte
	ProducerName string
	// SequenceID is the producer's sequence id of this message.
	SequenceID  uint64
	PublishTime time.Time
	EventTime   time.Time // zero when not set
	// Compression is the codec the producer used: NONE, LZ4, ZLIB, ZSTD or
	// SNAPPY.
	Compression string
	// SchemaVersion is the version of the schema the producer used, as the
	// broker encoded it, or nil.
	SchemaVersion []byte
	// BatchSize is the number of messages in the entry the message came in
	// (0 when sent without batching).
	BatchSize int
	// Err is set when the stored entry could not be decoded for
	// inspection (the broker forwards it unchanged anyway); Payload then
	// holds the raw stored payload.
	Err error
}

// SubscriptionInfo describes a subscription's state.
type SubscriptionInfo struct {
	Topic string
	Name  string
	// Type is Exclusive, Shared, Failover or Key_Shared.
	Type string
	// Durable is false for the subscriptions readers create.
	Durable   bool
	Consumers int
	// Backlog counts messages not yet acknowledged.
	Backlog int
	// Unacked counts messages delivered to a consumer and not yet
	// acknowledged.
	Unacked int
	// Redelivered sums the redelivery counts of the entries not yet
	// acknowledged: each nack or redelivery request, and each consumer
	// that went away holding them, adds one.
	Redelivered int
}

// storedTopicsLocked resolves a name given by a test to stored topics: a
// partitioned topic expands to its partitions.
func (s *Server) storedTopicsLocked(name string) []*topic {
	tn, err := parseTopic(name)
	if err != nil {
		return nil
	}
	if n, ok := s.partitioned[tn.full]; ok {
		out := make([]*topic, 0, n)
		for i := range n {
			if t := s.topics[fmt.Sprintf("%s%s%d", tn.full, partitionSuffix, i)]; t != nil {
				out = append(out, t)
			}
		}
		return out
	}
	if t := s.topics[tn.full]; t != nil {
		return []*topic{t}
	}
	return nil
}

// Topics returns the full names of all stored topics (partitions listed
// individually), sorted.
func (s *Server) Topics() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.topics))
	for n := range s.topics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Messages returns every message stored on topic, in publish order; for a
// partitioned topic, partition by partition. The name may be in any form a
// client accepts. An unknown topic has no messages.
func (s *Server) Messages(topic string) []Message {
	type snap struct {
		name    string
		ledger  uint64
		part    int32
		entries []*entry
	}
	s.mu.Lock()
	var snaps []snap
	for _, t := range s.storedTopicsLocked(topic) {
		// Entries are immutable once stored, so a copy of the slice header
		// is enough to decode them without the lock.
		snaps = append(snaps, snap{t.name.full, t.ledger, t.name.partition, slices.Clone(t.entries)})
	}
	s.mu.Unlock()
	var out []Message
	for _, sn := range snaps {
		for _, e := range sn.entries {
			out = append(out, decodeEntry(sn.name, sn.ledger, sn.part, e)...)
		}
	}
	return out
}

func decodeEntry(topicName string, ledger uint64, partition int32, e *entry) []Message {
	md := e.meta
	base := Message{
		Topic:         topicName,
		ID:            MessageID{LedgerID: int64(ledger), EntryID: int64(e.id), BatchIndex: -1, Partition: max(partition, 0)},
		ProducerName:  md.GetProducerName(),
		SequenceID:    md.GetSequenceId(),
		PublishTime:   time.UnixMilli(int64(md.GetPublishTime())),
		Compression:   md.GetCompression().String(),
		SchemaVersion: md.GetSchemaVersion(),
	}
	pm, err := parseHeadersAndPayload(e.headersAndPayload)
	if err != nil {
		base.Err = err
		return []Message{base}
	}
	payload, err := decompress(md, pm.payload)
	if err != nil {
		base.Err = err
		base.Payload = pm.payload
		return []Message{base}
	}
	if md.NumMessagesInBatch == nil {
		m := base
		m.Payload = payload
		m.Properties = toMap(md.GetProperties())
		m.Key = md.GetPartitionKey()
		m.OrderingKey = md.GetOrderingKey()
		if et := md.GetEventTime(); et != 0 {
			m.EventTime = time.UnixMilli(int64(et))
		}
		return []Message{m}
	}
	metas, payloads, err := splitBatch(payload, e.numMessages)
	if err != nil {
		base.Err = err
		base.Payload = payload
		return []Message{base}
	}
	out := make([]Message, len(metas))
	for i, smm := range metas {
		m := base
		m.ID.BatchIndex = int32(i)
		m.BatchSize = e.numMessages
		m.SequenceID = md.GetSequenceId() + uint64(i)
		if smm.SequenceId != nil {
			m.SequenceID = smm.GetSequenceId()
		}
		m.Payload = payloads[i]
		m.Properties = toMap(smm.GetProperties())
		m.Key = smm.GetPartitionKey()
		m.OrderingKey = smm.GetOrderingKey()
		if et := smm.GetEventTime(); et != 0 {
			m.EventTime = time.UnixMilli(int64(et))
		}
		out[i] = m
	}
	return out
}

func toMap(kvs []*pb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

// Subscriptions describes the subscriptions of topic (of all its
// partitions for a partitioned topic), sorted by topic and name.
func (s *Server) Subscriptions(topic string) []SubscriptionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SubscriptionInfo
	for _, t := range s.storedTopicsLocked(topic) {
		for _, name := range sortedSubNames(t) {
			sub := t.subs[name]
			redelivered := 0
			for _, n := range sub.redeliveries {
				redelivered += int(n)
			}
			unacked := 0
			for id := range sub.pending {
				unacked += t.entries[id].numMessages
			}
			out = append(out, SubscriptionInfo{
				Topic:       t.name.full,
				Name:        sub.name,
				Type:        sub.subType.String(),
				Durable:     sub.durable,
				Consumers:   len(sub.consumers),
				Backlog:     sub.backlog(),
				Unacked:     unacked,
				Redelivered: redelivered,
			})
		}
	}
	return out
}

// Backlog returns how many messages of topic the subscription has not
// acknowledged yet, summed over partitions for a partitioned topic, and
// whether the subscription exists.
func (s *Server) Backlog(topic, subscription string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total, found := 0, false
	for _, t := range s.storedTopicsLocked(topic) {
		if sub, ok := t.subs[subscription]; ok {
			found = true
			total += sub.backlog()
		}
	}
	return total, found
}

// RedeliveryCount returns how many times the entry holding message id was
// delivered again on the subscription since it was last acknowledged or
// the cursor moved. It is the RedeliveryCount the next delivery carries.
func (s *Server) RedeliveryCount(topic, subscription string, id MessageID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.storedTopicsLocked(topic) {
		if t.ledger != uint64(id.LedgerID) {
			continue
		}
		if sub, ok := t.subs[subscription]; ok {
			return int(sub.redeliveries[uint64(id.EntryID)])
		}
	}
	return 0
}
