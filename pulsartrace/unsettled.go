package pulsartrace

import (
	"sync"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

// idKey identifies a delivered message within one consumer: the position
// fields of its pulsar.MessageID, which is what Ack and Nack identify
// messages by.
type idKey struct {
	ledger, entry    int64
	batch, partition int32
}

func keyOf(id pulsar.MessageID) idKey {
	return idKey{ledger: id.LedgerID(), entry: id.EntryID(), batch: id.BatchIdx(), partition: id.PartitionIdx()}
}

// atOrBefore reports whether k's position is not after limit's in the same
// partition, the set a cumulative ack up to limit settles.
func (k idKey) atOrBefore(limit idKey) bool {
	if k.partition != limit.partition {
		return false
	}
	if k.ledger != limit.ledger {
		return k.ledger < limit.ledger
	}
	if k.entry != limit.entry {
		return k.entry < limit.entry
	}
	return k.batch <= limit.batch
}

// delivery is one received message whose process span is open.
type delivery struct {
	proc  messaging.Process
	d     *messaging.Destination
	key   idKey
	topic string

	// prev and next order deliveries by arrival, for evicting the oldest.
	prev, next *delivery
	// sameID chains deliveries of one message id: a message redelivered
	// while an earlier delivery is unsettled. Settling the id settles all.
	sameID *delivery
}

// unsettled is the bounded set of open deliveries of one consumer.
type unsettled struct {
	mu         sync.Mutex
	byID       map[idKey]*delivery
	head, tail *delivery // oldest, newest
	n, max     int
	closed     bool
}

func newUnsettled(max int) *unsettled {
	return &unsettled{byID: make(map[idKey]*delivery), max: max}
}

// add tracks dl. It returns the deliveries evicted to stay within the
// bound (to be ended as abandoned by the caller, outside the lock), and
// false when the set is closed: the caller ends dl itself.
func (u *unsettled) add(dl *delivery) (evicted []*delivery, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil, false
	}
	dl.sameID = u.byID[dl.key]
	u.byID[dl.key] = dl
	dl.prev = u.tail
	if u.tail != nil {
		u.tail.next = dl
	} else {
		u.head = dl
	}
	u.tail = dl
	u.n++
	for u.n > u.max && u.head != nil {
		old := u.head
		u.removeLocked(old)
		evicted = append(evicted, old)
	}
	return evicted, true
}

// takeOne removes and returns the open delivery of message id k, or nil.
// It is the allocation-free path of the common case: one delivery per id.
func (u *unsettled) takeOne(k idKey) (dl *delivery, more bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	dl = u.byID[k]
	if dl == nil {
		return nil, false
	}
	u.removeLocked(dl)
	return dl, u.byID[k] != nil
}

// takeCumulative removes and returns the open deliveries a cumulative ack
// up to k settles: those of k's partition at or before k, and of k's topic
// when the topic is known.
func (u *unsettled) takeCumulative(k idKey, topic string) []*delivery {
	u.mu.Lock()
	defer u.mu.Unlock()
	if topic == "" {
		if dl := u.byID[k]; dl != nil {
			topic = dl.topic
		}
	}
	var out []*delivery
	for dl := u.head; dl != nil; dl = dl.next {
		if dl.key.atOrBefore(k) && (topic == "" || dl.topic == topic) {
			out = append(out, dl)
		}
	}
	for _, dl := range out {
		u.removeLocked(dl)
	}
	return out
}

// close removes and returns every open delivery; later adds are refused.
func (u *unsettled) close() []*delivery {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	var out []*delivery
	for dl := u.head; dl != nil; dl = dl.next {
		out = append(out, dl)
	}
	u.byID = make(map[idKey]*delivery)
	u.head, u.tail, u.n = nil, nil, 0
	return out
}

// len is the number of open deliveries.
func (u *unsettled) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

func (u *unsettled) removeLocked(dl *delivery) {
	// Unlink from the arrival order.
	if dl.prev != nil {
		dl.prev.next = dl.next
	} else {
		u.head = dl.next
	}
	if dl.next != nil {
		dl.next.prev = dl.prev
	} else {
		u.tail = dl.prev
	}
	dl.prev, dl.next = nil, nil
	// Unlink from the chain of its message id.
	if first := u.byID[dl.key]; first == dl {
		if dl.sameID != nil {
			u.byID[dl.key] = dl.sameID
		} else {
			delete(u.byID, dl.key)
		}
	} else {
		for p := first; p != nil; p = p.sameID {
			if p.sameID == dl {
				p.sameID = dl.sameID
				break
			}
		}
	}
	dl.sameID = nil
	u.n--
}
