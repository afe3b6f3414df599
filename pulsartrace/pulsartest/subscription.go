package pulsartest

import (
	"cmp"
	"hash/fnv"
	"math/bits"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// subscription is a cursor over a topic plus the consumers attached to it.
// All fields are guarded by Server.mu.
type subscription struct {
	name    string
	topic   *topic
	subType pb.CommandSubscribe_SubType
	durable bool

	consumers []*consumer
	rr        int // next Shared consumer to try

	// markDelete is the highest entry id that, with every entry before it,
	// is acknowledged (-1: none).
	markDelete int64
	// readPos is the next entry never dispatched since the cursor was
	// last positioned.
	readPos uint64
	// acked holds entries above markDelete acknowledged out of order.
	acked map[uint64]struct{}
	// partial holds, for batches acknowledged index by index, the bit set
	// of indexes still unacknowledged (set bit = unacked), as the client
	// encodes ack sets.
	partial map[uint64][]int64
	// pending maps dispatched, unacknowledged entries to their consumer.
	pending map[uint64]*consumer
	// redeliver lists entries to send again, in ascending order.
	redeliver []uint64
	// redeliveries counts how often each entry was redelivered.
	redeliveries map[uint64]uint32
	// delayed holds entries read but held back until their deliver-at time
	// (unix milliseconds); timer wakes dispatch for the earliest.
	delayed map[uint64]int64
	timer   *time.Timer
	timerAt int64
	// msgOut counts messages delivered, redeliveries included.
	msgOut int64
}

// consumer is one client consumer attached to a subscription.
type consumer struct {
	id       uint64
	name     string
	priority int32
	c        *conn
	sub      *subscription
	permits  int64
	pending  map[uint64]struct{}
	since    time.Time
	msgOut   int64
	// flowed is set by the consumer's first FLOW: only then does the
	// client know the consumer and accept events for it.
	flowed      bool
	toldActive  *bool // what the consumer was last told by ACTIVE_CONSUMER_CHANGE
	endNotified bool
}

func newSubscription(t *topic, name string, subType pb.CommandSubscribe_SubType, durable bool) *subscription {
	return &subscription{
		name:         name,
		topic:        t,
		subType:      subType,
		durable:      durable,
		markDelete:   -1,
		acked:        map[uint64]struct{}{},
		partial:      map[uint64][]int64{},
		pending:      map[uint64]*consumer{},
		redeliveries: map[uint64]uint32{},
		delayed:      map[uint64]int64{},
	}
}

// seek positions the cursor so that the next message delivered is entry
// `next`; everything before it counts as acknowledged.
func (sub *subscription) seek(next uint64) {
	next = min(next, uint64(len(sub.topic.entries)))
	sub.markDelete = int64(next) - 1
	sub.readPos = next
	clear(sub.acked)
	clear(sub.partial)
	clear(sub.pending)
	clear(sub.redeliveries)
	clear(sub.delayed)
	sub.redeliver = sub.redeliver[:0]
	for _, c := range sub.consumers {
		clear(c.pending)
	}
}

func (sub *subscription) isAcked(id uint64) bool {
	if int64(id) <= sub.markDelete {
		return true
	}
	_, ok := sub.acked[id]
	return ok
}

// ackEntry acknowledges a whole entry.
func (sub *subscription) ackEntry(id uint64) {
	if id >= uint64(len(sub.topic.entries)) || sub.isAcked(id) {
		return
	}
	if c, ok := sub.pending[id]; ok {
		delete(c.pending, id)
		delete(sub.pending, id)
	}
	if i, ok := slices.BinarySearch(sub.redeliver, id); ok {
		sub.redeliver = slices.Delete(sub.redeliver, i, i+1)
	}
	delete(sub.partial, id)
	delete(sub.redeliveries, id)
	delete(sub.delayed, id)
	sub.acked[id] = struct{}{}
	for {
		next := uint64(sub.markDelete + 1)
		if _, ok := sub.acked[next]; !ok {
			break
		}
		delete(sub.acked, next)
		sub.markDelete++
	}
}

// ackIndexes acknowledges part of a batch: ackSet has a bit set for every
// index that is still unacknowledged. The entry counts as acknowledged once
// no index is left.
func (sub *subscription) ackIndexes(id uint64, ackSet []int64) {
	if id >= uint64(len(sub.topic.entries)) || sub.isAcked(id) {
		return
	}
	n := sub.topic.entries[id].numMessages
	cur, ok := sub.partial[id]
	if !ok {
		cur = allSet(n)
	}
	merged := make([]int64, len(cur))
	for i := range cur {
		var w int64
		if i < len(ackSet) {
			w = ackSet[i]
		}
		merged[i] = cur[i] & w
	}
	if countSet(merged, n) == 0 {
		sub.ackEntry(id)
		return
	}
	sub.partial[id] = merged
}

// ackCumulative acknowledges everything up to and including id (or, with an
// ack set, up to id and the acknowledged indexes of id).
func (sub *subscription) ackCumulative(id uint64, ackSet []int64) {
	// The client acknowledges "the entry before" a partly consumed batch,
	// which is entry -1 (all bits set) for the first entry: nothing.
	if id >= uint64(len(sub.topic.entries)) {
		return
	}
	for e := uint64(sub.markDelete + 1); e < id; e++ {
		sub.ackEntry(e)
	}
	if len(ackSet) > 0 {
		sub.ackIndexes(id, ackSet)
	} else {
		sub.ackEntry(id)
	}
}

// requeue takes entry id back from its consumer for redelivery.
func (sub *subscription) requeue(id uint64) {
	c, ok := sub.pending[id]
	if !ok {
		return
	}
	delete(c.pending, id)
	delete(sub.pending, id)
	sub.redeliveries[id]++
	if i, found := slices.BinarySearch(sub.redeliver, id); !found {
		sub.redeliver = slices.Insert(sub.redeliver, i, id)
	}
}

// removeConsumer detaches a consumer; its unacknowledged messages go to the
// remaining (or the next) consumers. A non-durable subscription (a reader)
// disappears with its last consumer.
func (sub *subscription) removeConsumer(c *consumer) {
	i := slices.Index(sub.consumers, c)
	if i < 0 {
		return
	}
	sub.consumers = slices.Delete(sub.consumers, i, i+1)
	delete(c.c.consumers, c.id)
	for _, id := range sortedKeys(c.pending) {
		sub.requeue(id)
	}
	if len(sub.consumers) == 0 && !sub.durable {
		sub.stopTimer()
		delete(sub.topic.subs, sub.name)
		return
	}
	sub.notifyActive()
	sub.dispatch()
}

func (sub *subscription) addConsumer(c *consumer) {
	sub.consumers = append(sub.consumers, c)
	// Failover and Key_Shared pick consumers by a stable order, as brokers
	// do, so that the choice does not depend on connection timing.
	slices.SortStableFunc(sub.consumers, func(a, b *consumer) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.name, b.name))
	})
	sub.notifyActive()
}

// delaysDelivery reports whether deliver-at times are honoured: brokers do
// so only for Shared and Key_Shared subscriptions.
func (sub *subscription) delaysDelivery() bool {
	return sub.subType == pb.CommandSubscribe_Shared || sub.subType == pb.CommandSubscribe_Key_Shared
}

// releaseDelayed moves delayed entries that are due to the redelivery queue
// (without counting a redelivery) and arms the timer for the next one.
func (sub *subscription) releaseDelayed(now int64) {
	next := int64(0)
	for id, at := range sub.delayed {
		if at <= now {
			delete(sub.delayed, id)
			if i, found := slices.BinarySearch(sub.redeliver, id); !found {
				sub.redeliver = slices.Insert(sub.redeliver, i, id)
			}
		} else if next == 0 || at < next {
			next = at
		}
	}
	s := sub.topic.s
	if next == 0 || (sub.timer != nil && sub.timerAt == next) || s.isClosed() {
		return
	}
	sub.stopTimer()
	sub.timerAt = next
	sub.timer = time.AfterFunc(time.Duration(next-now)*time.Millisecond, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-s.done:
			return
		default:
		}
		sub.timer = nil
		sub.dispatch()
	})
}

func (sub *subscription) stopTimer() {
	if sub.timer != nil {
		sub.timer.Stop()
		sub.timer = nil
	}
}

// nextEntry returns the next entry to dispatch without consuming it.
func (sub *subscription) nextEntry() (*entry, bool) {
	now := time.Now().UnixMilli()
	if len(sub.delayed) > 0 {
		sub.releaseDelayed(now)
	}
	for len(sub.redeliver) > 0 {
		id := sub.redeliver[0]
		if sub.isAcked(id) {
			sub.redeliver = sub.redeliver[1:]
			continue
		}
		return sub.topic.entries[id], true
	}
	for sub.readPos < uint64(len(sub.topic.entries)) {
		id := sub.readPos
		if _, busy := sub.pending[id]; busy || sub.isAcked(id) {
			sub.readPos++
			continue
		}
		e := sub.topic.entries[id]
		if at := e.meta.GetDeliverAtTime(); at > now && sub.delaysDelivery() {
			sub.delayed[id] = at
			sub.readPos++
			sub.releaseDelayed(now)
			continue
		}
		return e, false
	}
	return nil, false
}

// pickConsumer chooses who gets e, or nil if that consumer has no permits.
func (sub *subscription) pickConsumer(e *entry) *consumer {
	n := len(sub.consumers)
	if n == 0 {
		return nil
	}
	var c *consumer
	switch sub.subType {
	case pb.CommandSubscribe_Shared:
		for i := range n {
			cand := sub.consumers[(sub.rr+i)%n]
			if cand.permits > 0 {
				sub.rr = (sub.rr + i + 1) % n
				return cand
			}
		}
		return nil
	case pb.CommandSubscribe_Key_Shared:
		h := fnv.New32a()
		_, _ = h.Write([]byte(e.key()))
		c = sub.consumers[int(h.Sum32()%uint32(n))]
	case pb.CommandSubscribe_Failover:
		// Partitions are spread over the consumers like brokers do.
		c = sub.consumers[int(max(sub.topic.name.partition, 0))%n]
	default:
		c = sub.consumers[0]
	}
	if c.permits <= 0 {
		return nil
	}
	return c
}

// dispatch pushes as many messages as the consumers' permits allow.
func (sub *subscription) dispatch() {
	for {
		e, redelivery := sub.nextEntry()
		if e == nil {
			sub.notifyEndOfTopic()
			return
		}
		c := sub.pickConsumer(e)
		if c == nil {
			return
		}
		if redelivery {
			sub.redeliver = sub.redeliver[1:]
		} else {
			sub.readPos++
		}
		// A batch costs one permit per message in it, as the client counts.
		c.permits -= int64(e.numMessages)
		c.msgOut += int64(e.numMessages)
		sub.msgOut += int64(e.numMessages)
		c.pending[e.id] = struct{}{}
		sub.pending[e.id] = c
		msg := &pb.CommandMessage{
			ConsumerId:      proto.Uint64(c.id),
			MessageId:       sub.topic.messageID(e.id),
			RedeliveryCount: proto.Uint32(sub.redeliveries[e.id]),
		}
		if set, ok := sub.partial[e.id]; ok {
			msg.AckSet = slices.Clone(set)
		}
		c.c.send(&pb.BaseCommand{Type: pb.BaseCommand_MESSAGE.Enum(), Message: msg}, e.headersAndPayload)
	}
}

// backlog counts unacknowledged messages (not entries).
func (sub *subscription) backlog() int {
	total := 0
	for id := uint64(sub.markDelete + 1); id < uint64(len(sub.topic.entries)); id++ {
		if sub.isAcked(id) {
			continue
		}
		e := sub.topic.entries[id]
		if set, ok := sub.partial[id]; ok {
			total += countSet(set, e.numMessages)
		} else {
			total += e.numMessages
		}
	}
	return total
}

func allSet(n int) []int64 {
	words := make([]int64, (n+63)/64)
	for i := range n {
		words[i/64] |= 1 << (i % 64)
	}
	return words
}

func countSet(words []int64, n int) int {
	total := 0
	for i, w := range words {
		if i*64 >= n {
			break
		}
		if rem := n - i*64; rem < 64 {
			w &= (1 << rem) - 1
		}
		total += bits.OnesCount64(uint64(w))
	}
	return total
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
