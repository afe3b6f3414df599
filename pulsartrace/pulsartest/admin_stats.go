package pulsartest

import (
	"fmt"
	"net/http"
	"time"
)

// The stats follow the field names of a real broker's JSON so that
// pulsaradmin's TopicStats, PartitionedTopicStats and
// PersistentTopicInternalStats decode them; rates are always zero.

type publisherStats struct {
	AccessMode     string `json:"accessMode"`
	ProducerID     int64  `json:"producerId"`
	ProducerName   string `json:"producerName"`
	Address        string `json:"address"`
	ConnectedSince string `json:"connectedSince"`
	ClientVersion  string `json:"clientVersion"`
}

type consumerStats struct {
	ConsumerName     string `json:"consumerName"`
	AvailablePermits int64  `json:"availablePermits"`
	UnackedMessages  int    `json:"unackedMessages"`
	MsgOutCounter    int64  `json:"msgOutCounter"`
	Address          string `json:"address"`
	ConnectedSince   string `json:"connectedSince"`
	ClientVersion    string `json:"clientVersion"`
}

type subscriptionStats struct {
	MsgBacklog         int64           `json:"msgBacklog"`
	BacklogSize        int64           `json:"backlogSize"`
	UnackedMessages    int64           `json:"unackedMessages"`
	MsgDelayed         int64           `json:"msgDelayed"`
	Type               string          `json:"type"`
	ActiveConsumerName string          `json:"activeConsumerName,omitempty"`
	MsgOutCounter      int64           `json:"msgOutCounter"`
	Consumers          []consumerStats `json:"consumers"`
	IsDurable          bool            `json:"isDurable"`
}

type topicStatsJSON struct {
	MsgInCounter           int64                        `json:"msgInCounter"`
	BytesInCounter         int64                        `json:"bytesInCounter"`
	MsgOutCounter          int64                        `json:"msgOutCounter"`
	StorageSize            int64                        `json:"storageSize"`
	BacklogSize            int64                        `json:"backlogSize"`
	AverageMsgSize         float64                      `json:"averageMsgSize"`
	Publishers             []publisherStats             `json:"publishers"`
	Subscriptions          map[string]subscriptionStats `json:"subscriptions"`
	Replication            map[string]any               `json:"replication"`
	DeduplicationStatus    string                       `json:"deduplicationStatus"`
	TopicCreationTimeStamp int64                        `json:"topicCreationTimeStamp"`
	LastPublishTimestamp   int64                        `json:"lastPublishTimestamp"`
}

func since(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func topicStats(t *topic) topicStatsJSON {
	st := topicStatsJSON{
		StorageSize:            t.bytesIn,
		BytesInCounter:         t.bytesIn,
		Publishers:             []publisherStats{},
		Subscriptions:          map[string]subscriptionStats{},
		Replication:            map[string]any{},
		DeduplicationStatus:    "Disabled",
		TopicCreationTimeStamp: t.created.UnixMilli(),
	}
	for _, e := range t.entries {
		st.MsgInCounter += int64(e.numMessages)
	}
	if n := len(t.entries); n > 0 {
		st.LastPublishTimestamp = int64(t.entries[n-1].meta.GetPublishTime())
		st.AverageMsgSize = float64(t.bytesIn) / float64(st.MsgInCounter)
	}
	for _, p := range t.allProducers() {
		st.Publishers = append(st.Publishers, publisherStats{
			AccessMode:     p.mode.String(),
			ProducerID:     int64(p.id),
			ProducerName:   p.name,
			Address:        p.c.nc.RemoteAddr().String(),
			ConnectedSince: since(p.since),
			ClientVersion:  p.c.clientVersion,
		})
	}
	for _, name := range sortedSubNames(t) {
		sub := t.subs[name]
		ss := subscriptionStats{
			MsgBacklog:    int64(sub.backlog()),
			Type:          sub.subType.String(),
			MsgOutCounter: sub.msgOut,
			MsgDelayed:    int64(len(sub.delayed)),
			Consumers:     []consumerStats{},
			IsDurable:     sub.durable,
		}
		for id := uint64(sub.markDelete + 1); id < uint64(len(t.entries)); id++ {
			if !sub.isAcked(id) {
				ss.BacklogSize += int64(len(t.entries[id].headersAndPayload))
			}
		}
		for id := range sub.pending {
			ss.UnackedMessages += int64(t.entries[id].numMessages)
		}
		if a := sub.activeConsumer(); a != nil && (sub.subType.String() == "Failover" || sub.subType.String() == "Exclusive") {
			ss.ActiveConsumerName = a.name
		}
		for _, c := range sub.consumers {
			unacked := 0
			for id := range c.pending {
				unacked += t.entries[id].numMessages
			}
			ss.Consumers = append(ss.Consumers, consumerStats{
				ConsumerName:     c.name,
				AvailablePermits: c.permits,
				UnackedMessages:  unacked,
				MsgOutCounter:    c.msgOut,
				Address:          c.c.nc.RemoteAddr().String(),
				ConnectedSince:   since(c.since),
				ClientVersion:    c.c.clientVersion,
			})
		}
		st.MsgOutCounter += sub.msgOut
		st.BacklogSize = max(st.BacklogSize, ss.BacklogSize)
		st.Subscriptions[name] = ss
	}
	return st
}

func (q *topicRequest) partitionedStats() (any, error) {
	if !q.partitioned {
		if q.t != nil {
			return nil, errorf(http.StatusNotFound, "Partitioned Topic not found: %s has zero partitions", q.tn.full)
		}
		return nil, q.notFound()
	}
	agg := struct {
		topicStatsJSON
		Metadata   map[string]int            `json:"metadata"`
		Partitions map[string]topicStatsJSON `json:"partitions"`
	}{
		Metadata:   map[string]int{"partitions": q.partitions},
		Partitions: map[string]topicStatsJSON{},
	}
	agg.Publishers = []publisherStats{}
	agg.Subscriptions = map[string]subscriptionStats{}
	agg.Replication = map[string]any{}
	agg.DeduplicationStatus = "Disabled"
	per := boolParam(q.r, "perPartition")
	var msgs int64
	for _, t := range q.stored() {
		st := topicStats(t)
		if per {
			agg.Partitions[t.name.full] = st
		}
		agg.MsgInCounter += st.MsgInCounter
		agg.BytesInCounter += st.BytesInCounter
		agg.MsgOutCounter += st.MsgOutCounter
		agg.StorageSize += st.StorageSize
		agg.BacklogSize += st.BacklogSize
		agg.LastPublishTimestamp = max(agg.LastPublishTimestamp, st.LastPublishTimestamp)
		if agg.TopicCreationTimeStamp == 0 || st.TopicCreationTimeStamp < agg.TopicCreationTimeStamp {
			agg.TopicCreationTimeStamp = st.TopicCreationTimeStamp
		}
		msgs += st.MsgInCounter
		agg.Publishers = append(agg.Publishers, st.Publishers...)
		for name, ss := range st.Subscriptions {
			a, ok := agg.Subscriptions[name]
			if !ok {
				a = subscriptionStats{Type: ss.Type, IsDurable: ss.IsDurable, Consumers: []consumerStats{}}
			}
			a.MsgBacklog += ss.MsgBacklog
			a.BacklogSize += ss.BacklogSize
			a.UnackedMessages += ss.UnackedMessages
			a.MsgDelayed += ss.MsgDelayed
			a.MsgOutCounter += ss.MsgOutCounter
			a.Consumers = append(a.Consumers, ss.Consumers...)
			agg.Subscriptions[name] = a
		}
	}
	if msgs > 0 {
		agg.AverageMsgSize = float64(agg.BytesInCounter) / float64(msgs)
	}
	return agg, nil
}

type cursorStats struct {
	MarkDeletePosition          string `json:"markDeletePosition"`
	ReadPosition                string `json:"readPosition"`
	MessagesConsumedCounter     int64  `json:"messagesConsumedCounter"`
	IndividuallyDeletedMessages string `json:"individuallyDeletedMessages"`
	State                       string `json:"state"`
}

func internalStats(t *topic) any {
	pos := func(entry int64) string { return fmt.Sprintf("%d:%d", t.ledger, entry) }
	cursors := map[string]cursorStats{}
	for _, name := range sortedSubNames(t) {
		sub := t.subs[name]
		deleted := "["
		first := true
		for _, id := range sortedKeys(sub.acked) {
			if !first {
				deleted += ","
			}
			first = false
			deleted += fmt.Sprintf("(%s..%s]", pos(int64(id)-1), pos(int64(id)))
		}
		deleted += "]"
		cursors[name] = cursorStats{
			MarkDeletePosition:          pos(sub.markDelete),
			ReadPosition:                pos(int64(sub.readPos)),
			MessagesConsumedCounter:     sub.msgOut,
			IndividuallyDeletedMessages: deleted,
			State:                       "Open",
		}
	}
	n := int64(len(t.entries))
	state := "LedgerOpened"
	if t.terminated {
		state = "Terminated"
	}
	return map[string]any{
		"entriesAddedCounter":  n,
		"numberOfEntries":      n,
		"totalSize":            t.bytesIn,
		"currentLedgerEntries": n,
		"currentLedgerSize":    t.bytesIn,
		"lastConfirmedEntry":   pos(n - 1),
		"state":                state,
		"ledgers": []map[string]any{{
			"ledgerId": t.ledger, "entries": n, "size": t.bytesIn, "offloaded": false,
		}},
		"cursors":                cursors,
		"waitingCursorsCount":    0,
		"pendingAddEntriesCount": 0,
	}
}
