package pulsartest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

const partitionSuffix = "-partition-"

// topicName is a parsed, normalised topic name.
type topicName struct {
	full      string // persistent://tenant/ns/local[-partition-N]
	base      string // full without the partition suffix
	namespace string // tenant/ns
	partition int32  // -1 when the name has no partition suffix
}

// parseTopic accepts the forms clients use: "local", "tenant/ns/local",
// "persistent://tenant/ns/local" (and non-persistent://, stored alike), plus
// the legacy "tenant/cluster/ns/local", each optionally ending in
// "-partition-N".
func parseTopic(name string) (topicName, error) {
	domain := "persistent"
	rest := name
	if i := strings.Index(name, "://"); i >= 0 {
		domain, rest = name[:i], name[i+3:]
		if domain != "persistent" && domain != "non-persistent" {
			return topicName{}, fmt.Errorf("invalid topic domain %q in %q", domain, name)
		}
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && !strings.Contains(name, "://"):
		parts = []string{"public", "default", parts[0]}
	case len(parts) == 3, len(parts) == 4:
	default:
		return topicName{}, fmt.Errorf("invalid topic name %q", name)
	}
	for _, p := range parts {
		if p == "" {
			return topicName{}, fmt.Errorf("invalid topic name %q", name)
		}
	}
	local := parts[len(parts)-1]
	tn := topicName{
		full:      domain + "://" + strings.Join(parts, "/"),
		namespace: strings.Join(parts[:len(parts)-1], "/"),
		partition: -1,
	}
	tn.base = tn.full
	if i := strings.LastIndex(local, partitionSuffix); i > 0 {
		if n, err := strconv.ParseInt(local[i+len(partitionSuffix):], 10, 32); err == nil && n >= 0 {
			tn.partition = int32(n)
			tn.base = strings.TrimSuffix(tn.full, local[i:])
		}
	}
	return tn, nil
}

// topic is the stored log of one non-partitioned topic or one partition.
type topic struct {
	s         *Server
	name      topicName
	ledger    uint64
	entries   []*entry
	subs      map[string]*subscription
	producers map[*producer]struct{}
	schemas   *schemaLog       // shared by the partitions of a topic
	lastSeq   map[string]int64 // highest sequence id stored per producer name
	created   time.Time
	bytesIn   int64

	// terminated topics accept no more messages.
	terminated bool
	// epoch counts grants of exclusive access; exclusive is the producer
	// holding it, waiting the WaitForExclusive producers queued for it.
	epoch     uint64
	exclusive *producer
	waiting   []*producer
}

// entry is one stored SEND: a single message or a whole batch, kept exactly
// as the producer sent it.
type entry struct {
	id                uint64
	headersAndPayload []byte
	meta              *pb.MessageMetadata
	numMessages       int
	receivedAt        time.Time
}

// key returns the routing key used by Key_Shared subscriptions.
func (e *entry) key() string {
	if k := e.meta.GetOrderingKey(); len(k) > 0 {
		return string(k)
	}
	return e.meta.GetPartitionKey()
}

// topicLocked returns the stored topic for name, creating it when create
// is set (Pulsar's default auto topic creation). Callers hold s.mu.
func (s *Server) topicLocked(tn topicName, create bool) *topic {
	if t, ok := s.topics[tn.full]; ok || !create {
		return t
	}
	s.ensureNamespaceLocked(tn.namespace)
	sl := s.schemas[tn.base]
	if sl == nil {
		sl = &schemaLog{}
		s.schemas[tn.base] = sl
	}
	t := &topic{
		s:         s,
		schemas:   sl,
		name:      tn,
		ledger:    s.nextLedger,
		subs:      map[string]*subscription{},
		producers: map[*producer]struct{}{},
		lastSeq:   map[string]int64{},
		created:   time.Now(),
	}
	s.nextLedger++
	s.topics[tn.full] = t
	return t
}

// CreatePartitionedTopic declares topic as partitioned with the given number
// of partitions. Clients then see it as partitioned in their metadata
// lookups. Creating it again with the same count is a no-op.
func (s *Server) CreatePartitionedTopic(topic string, partitions int) error {
	tn, err := parseTopic(topic)
	if err != nil {
		return fmt.Errorf("pulsartest: %w", err)
	}
	if tn.partition >= 0 {
		return fmt.Errorf("pulsartest: %q names a partition, not a topic", topic)
	}
	if partitions < 1 {
		return fmt.Errorf("pulsartest: partitions must be at least 1, got %d", partitions)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.partitioned[tn.full]; ok && n != partitions {
		return fmt.Errorf("pulsartest: topic %q already has %d partitions", tn.full, n)
	}
	if t, ok := s.topics[tn.full]; ok && len(t.entries) > 0 {
		return fmt.Errorf("pulsartest: %q already exists as a non-partitioned topic", tn.full)
	}
	s.createPartitionedLocked(tn, partitions)
	return nil
}

// removeProducer detaches a producer; when it held exclusive access, the
// first WaitForExclusive producer in line gets it.
func (t *topic) removeProducer(p *producer) {
	if i := slices.Index(t.waiting, p); i >= 0 {
		t.waiting = slices.Delete(t.waiting, i, i+1)
		return
	}
	delete(t.producers, p)
	if t.exclusive == p {
		t.exclusive = nil
	}
	if t.exclusive != nil || len(t.producers) > 0 || len(t.waiting) == 0 {
		return
	}
	next := t.waiting[0]
	t.waiting = t.waiting[1:]
	t.epoch++
	t.exclusive = next
	t.producers[next] = struct{}{}
	next.ready = true
	next.c.send(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER_SUCCESS.Enum(), ProducerSuccess: t.producerSuccess(next)}, nil)
}

// append stores one SEND and returns its entry.
func (t *topic) append(producerName string, seq, highestSeq uint64, data []byte, meta *pb.MessageMetadata) *entry {
	n := 1
	if meta.NumMessagesInBatch != nil {
		n = max(int(meta.GetNumMessagesInBatch()), 1)
	}
	e := &entry{
		id:                uint64(len(t.entries)),
		headersAndPayload: data,
		meta:              meta,
		numMessages:       n,
		receivedAt:        time.Now(),
	}
	t.entries = append(t.entries, e)
	t.bytesIn += int64(len(data))
	last := int64(max(seq, highestSeq))
	if prev, ok := t.lastSeq[producerName]; !ok || last > prev {
		t.lastSeq[producerName] = last
	}
	return e
}

// messageID returns the wire id of the entry.
func (t *topic) messageID(entryID uint64) *pb.MessageIdData {
	return &pb.MessageIdData{
		LedgerId:  proto.Uint64(t.ledger),
		EntryId:   proto.Uint64(entryID),
		Partition: proto.Int32(t.name.partition),
	}
}

// schemaVersion encodes a version the way brokers do: an 8-byte big-endian
// number.
func schemaVersion(v int) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(v))
}

// schemaLog holds the schema versions of a topic; the index is the version.
type schemaLog struct {
	versions []*pb.Schema
	times    []int64 // unix ms each version was registered
	// deleted hides every version until a schema is registered again.
	deleted bool
}

// schemaFor returns the schema with the given encoded version, or the latest
// when version is empty.
func (l *schemaLog) schemaFor(version []byte) (*pb.Schema, []byte) {
	if len(l.versions) == 0 || l.deleted {
		return nil, nil
	}
	if len(version) == 0 {
		return l.versions[len(l.versions)-1], schemaVersion(len(l.versions) - 1)
	}
	if len(version) != 8 {
		return nil, nil
	}
	v := binary.BigEndian.Uint64(version)
	if v >= uint64(len(l.versions)) {
		return nil, nil
	}
	return l.versions[v], version
}

// register returns the version of an identical registered schema or adds
// sc as a new version. Compatibility is not checked: every change is
// accepted, as with a namespace whose compatibility strategy is
// ALWAYS_COMPATIBLE.
func (l *schemaLog) register(sc *pb.Schema) []byte {
	for i, old := range l.versions {
		if l.deleted {
			break
		}
		if old.GetType() == sc.GetType() && bytes.Equal(old.GetSchemaData(), sc.GetSchemaData()) &&
			slices.EqualFunc(old.GetProperties(), sc.GetProperties(), func(a, b *pb.KeyValue) bool {
				return a.GetKey() == b.GetKey() && a.GetValue() == b.GetValue()
			}) {
			return schemaVersion(i)
		}
	}
	l.versions = append(l.versions, proto.Clone(sc).(*pb.Schema))
	l.times = append(l.times, time.Now().UnixMilli())
	l.deleted = false
	return schemaVersion(len(l.versions) - 1)
}
