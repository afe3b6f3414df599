package pulsartest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// Operations shared by the binary protocol and the admin API. Callers hold
// s.mu.

// closeByBroker detaches a producer and tells its client, which reconnects
// (and may then be refused, e.g. on a terminated topic).
func (p *producer) closeByBroker() {
	p.c.send(&pb.BaseCommand{
		Type:          pb.BaseCommand_CLOSE_PRODUCER.Enum(),
		CloseProducer: &pb.CommandCloseProducer{ProducerId: proto.Uint64(p.id), RequestId: proto.Uint64(0)},
	}, nil)
	delete(p.c.producers, p.id)
	p.topic.removeProducer(p)
}

// closeByBroker detaches a consumer and tells its client, which
// resubscribes; its unacknowledged messages are handed out again.
func (cons *consumer) closeByBroker() {
	cons.c.send(&pb.BaseCommand{
		Type:          pb.BaseCommand_CLOSE_CONSUMER.Enum(),
		CloseConsumer: &pb.CommandCloseConsumer{ConsumerId: proto.Uint64(cons.id), RequestId: proto.Uint64(0)},
	}, nil)
	cons.sub.removeConsumer(cons)
}

func (t *topic) allProducers() []*producer {
	out := make([]*producer, 0, len(t.producers)+len(t.waiting))
	for p := range t.producers {
		out = append(out, p)
	}
	out = append(out, t.waiting...)
	slices.SortFunc(out, func(a, b *producer) int { return strings.Compare(a.name, b.name) })
	return out
}

func (t *topic) allConsumers() []*consumer {
	var out []*consumer
	for _, name := range sortedSubNames(t) {
		out = append(out, t.subs[name].consumers...)
	}
	return out
}

// active reports whether clients are attached to the topic.
func (t *topic) active() bool {
	return len(t.producers) > 0 || len(t.waiting) > 0 || len(t.allConsumers()) > 0
}

// unloadTopicLocked closes every producer and consumer of a topic, as a
// broker does when it hands a topic over: clients look the topic up again
// and reconnect. Readers' subscriptions go away with their consumers and
// are recreated from the readers' positions.
func (s *Server) unloadTopicLocked(t *topic) {
	if t == nil {
		return
	}
	for _, p := range t.allProducers() {
		p.closeByBroker()
	}
	for _, c := range t.allConsumers() {
		c.closeByBroker()
	}
}

// deleteTopicLocked removes a topic with its messages and subscriptions
// after closing its clients.
func (s *Server) deleteTopicLocked(t *topic) {
	if t == nil {
		return
	}
	s.unloadTopicLocked(t)
	for _, sub := range t.subs {
		sub.stopTimer()
	}
	delete(s.topics, t.name.full)
	if t.name.partition < 0 {
		delete(s.schemas, t.name.base)
		delete(s.topicQuotas, t.name.base)
	}
}

// terminateLocked seals a topic: no more messages are accepted, producers
// are closed (and refused when they come back), and consumers that have
// read everything are told they reached the end. It returns the id of the
// last entry (entry -1 for an empty topic).
func (s *Server) terminateLocked(t *topic) *pb.MessageIdData {
	t.terminated = true
	for _, p := range t.allProducers() {
		p.closeByBroker()
	}
	for _, name := range sortedSubNames(t) {
		t.subs[name].dispatch()
	}
	if n := len(t.entries); n > 0 {
		return t.messageID(uint64(n - 1))
	}
	return t.messageID(^uint64(0))
}

// createPartitionedLocked declares a partitioned topic and creates its
// partitions.
func (s *Server) createPartitionedLocked(tn topicName, partitions int) {
	s.partitioned[tn.full] = partitions
	for i := range partitions {
		ptn, _ := parseTopic(fmt.Sprintf("%s%s%d", tn.full, partitionSuffix, i))
		s.topicLocked(ptn, true)
	}
}

// updatePartitionsLocked grows a partitioned topic. The new partitions get
// the subscriptions the existing ones have, as on a real broker, so that
// consumers that discover them miss nothing.
func (s *Server) updatePartitionsLocked(tn topicName, partitions int) {
	old := s.partitioned[tn.full]
	var subs []*subscription
	if first := s.topics[fmt.Sprintf("%s%s0", tn.full, partitionSuffix)]; first != nil {
		for _, name := range sortedSubNames(first) {
			if sub := first.subs[name]; sub.durable {
				subs = append(subs, sub)
			}
		}
	}
	s.partitioned[tn.full] = partitions
	for i := old; i < partitions; i++ {
		ptn, _ := parseTopic(fmt.Sprintf("%s%s%d", tn.full, partitionSuffix, i))
		t := s.topicLocked(ptn, true)
		for _, sub := range subs {
			if _, ok := t.subs[sub.name]; !ok {
				ns := newSubscription(t, sub.name, sub.subType, true)
				ns.seek(0)
				t.subs[sub.name] = ns
			}
		}
	}
}

// backlogQuota is a backlog limit as the admin API describes it.
type backlogQuota struct {
	LimitSize int64  `json:"limitSize"`
	LimitTime int64  `json:"limitTime"`
	Policy    string `json:"policy"`
}

const (
	quotaStorage = "destination_storage"
	quotaAge     = "message_age"

	policyHold      = "producer_request_hold"
	policyException = "producer_exception"
	policyEviction  = "consumer_backlog_eviction"
)

// quotaExceededLocked returns the policy of the first backlog quota the
// topic exceeds, or "". Topic quotas take precedence over namespace ones.
func (s *Server) quotaExceededLocked(t *topic) string {
	quotas := s.topicQuotas[t.name.base]
	if len(quotas) == 0 {
		if ns := s.namespaces[t.name.namespace]; ns != nil {
			quotas = ns.quotas
		}
	}
	if len(quotas) == 0 {
		return ""
	}
	var size int64
	var oldest uint64
	for _, sub := range t.subs {
		if !sub.durable {
			continue
		}
		var subSize int64
		for id := uint64(sub.markDelete + 1); id < uint64(len(t.entries)); id++ {
			if sub.isAcked(id) {
				continue
			}
			e := t.entries[id]
			subSize += int64(len(e.headersAndPayload))
			if pt := e.meta.GetPublishTime(); oldest == 0 || pt < oldest {
				oldest = pt
			}
		}
		size = max(size, subSize)
	}
	if q, ok := quotas[quotaStorage]; ok && q.LimitSize > 0 && size > q.LimitSize {
		return q.Policy
	}
	if q, ok := quotas[quotaAge]; ok && q.LimitTime > 0 && oldest > 0 &&
		time.Since(time.UnixMilli(int64(oldest))) > time.Duration(q.LimitTime)*time.Second {
		return q.Policy
	}
	return ""
}

// enforceQuotaLocked applies a producer-blocking backlog quota to the
// producers already attached: a broker checks quotas periodically and
// disconnects producers of a topic over its quota; here the check runs
// after every stored message.
func (s *Server) enforceQuotaLocked(t *topic) {
	switch s.quotaExceededLocked(t) {
	case policyHold, policyException:
		for _, p := range t.allProducers() {
			p.closeByBroker()
		}
	}
}

// reachedEnd reports whether a subscription of a terminated topic has
// nothing left to deliver.
func (sub *subscription) reachedEnd() bool {
	return sub.topic.terminated && sub.readPos >= uint64(len(sub.topic.entries)) &&
		len(sub.redeliver) == 0 && len(sub.delayed) == 0
}

// notifyEndOfTopic tells consumers of a terminated topic that nothing more
// will come. pulsar-client-go v0.19.0 treats REACHED_END_OF_TOPIC as an
// unknown command and drops its connection, so its consumers are not sent
// it; its readers see the end through HasNext.
func (sub *subscription) notifyEndOfTopic() {
	if !sub.reachedEnd() {
		return
	}
	for _, c := range sub.consumers {
		if c.endNotified || strings.HasPrefix(c.c.clientVersion, "Pulsar-Go") {
			continue
		}
		c.endNotified = true
		c.c.send(&pb.BaseCommand{
			Type:              pb.BaseCommand_REACHED_END_OF_TOPIC.Enum(),
			ReachedEndOfTopic: &pb.CommandReachedEndOfTopic{ConsumerId: proto.Uint64(c.id)},
		}, nil)
	}
}

// activeConsumer is the consumer a Failover subscription delivers to.
func (sub *subscription) activeConsumer() *consumer {
	if len(sub.consumers) == 0 {
		return nil
	}
	return sub.consumers[int(max(sub.topic.name.partition, 0))%len(sub.consumers)]
}

// notifyActive tells the consumers of a Failover subscription that have
// asked for messages whether they are the active one; only changes are
// sent, except to a consumer that has not been told yet.
func (sub *subscription) notifyActive() {
	if sub.subType != pb.CommandSubscribe_Failover {
		return
	}
	active := sub.activeConsumer()
	for _, c := range sub.consumers {
		if !c.flowed {
			continue
		}
		isActive := c == active
		if c.toldActive != nil && *c.toldActive == isActive {
			continue
		}
		c.toldActive = &isActive
		c.c.send(&pb.BaseCommand{
			Type: pb.BaseCommand_ACTIVE_CONSUMER_CHANGE.Enum(),
			ActiveConsumerChange: &pb.CommandActiveConsumerChange{
				ConsumerId: proto.Uint64(c.id),
				IsActive:   proto.Bool(isActive),
			},
		}, nil)
	}
}
