package pulsartest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// restMessageID is a message id as the admin API writes it.
type restMessageID struct {
	LedgerID       int64 `json:"ledgerId"`
	EntryID        int64 `json:"entryId"`
	PartitionIndex int   `json:"partitionIndex"`
}

func toRestID(id *pb.MessageIdData) restMessageID {
	return restMessageID{
		LedgerID:       int64(id.GetLedgerId()),
		EntryID:        int64(id.GetEntryId()),
		PartitionIndex: int(id.GetPartition()),
	}
}

func (s *Server) changeQuotas(r *http.Request, quotas map[string]backlogQuota) (any, error) {
	typ := r.URL.Query().Get("backlogQuotaType")
	if typ == "" {
		typ = quotaStorage
	}
	if typ != quotaStorage && typ != quotaAge {
		return nil, errorf(http.StatusPreconditionFailed, "Invalid backlog quota type: %s", typ)
	}
	switch r.Method {
	case http.MethodPost:
		var q backlogQuota
		if err := decodeBody(r, &q); err != nil {
			return nil, err
		}
		switch q.Policy {
		case policyHold, policyException, policyEviction:
		default:
			return nil, errorf(http.StatusPreconditionFailed, "Invalid backlog quota policy: %q", q.Policy)
		}
		quotas[typ] = q
		return nil, nil
	case http.MethodDelete:
		delete(quotas, typ)
		return nil, nil
	}
	return nil, methodNotAllowed(r)
}

func (s *Server) routeTopics(r *http.Request, domain string, segs []string) (any, error) {
	if len(segs) < 2 {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	nsName := segs[0] + "/" + segs[1]
	_, nsExists := s.namespaces[nsName]
	if len(segs) == 2 || (len(segs) == 3 && segs[2] == "partitioned") {
		if r.Method != http.MethodGet {
			return nil, methodNotAllowed(r)
		}
		if !nsExists {
			return nil, errorf(http.StatusNotFound, "Namespace does not exist")
		}
		out := []string{}
		if len(segs) == 2 {
			for name, t := range s.topics {
				if t.name.namespace == nsName && t.name.full[:len(domain)] == domain && t.name.full[len(domain)] == ':' {
					out = append(out, name)
				}
			}
		} else {
			for base := range s.partitioned {
				if tn, _ := parseTopic(base); tn.namespace == nsName && base[:len(domain)] == domain && base[len(domain)] == ':' {
					out = append(out, base)
				}
			}
		}
		slices.Sort(out)
		return out, nil
	}
	tn, err := parseTopic(domain + "://" + nsName + "/" + segs[2])
	if err != nil {
		return nil, errorf(http.StatusPreconditionFailed, "Invalid topic name: %v", err)
	}
	req := &topicRequest{s: s, r: r, tn: tn, nsExists: nsExists}
	req.partitions, req.partitioned = s.partitioned[tn.full]
	req.t = s.topics[tn.full]
	return req.serve(segs[3:])
}

// topicRequest is one admin request about a topic; the server lock is held.
type topicRequest struct {
	s           *Server
	r           *http.Request
	tn          topicName
	nsExists    bool
	t           *topic // nil for a partitioned topic or a missing one
	partitioned bool
	partitions  int
}

func (q *topicRequest) exists() bool { return q.t != nil || q.partitioned }

// stored returns the topics a request acts on: the topic itself, or every
// partition of a partitioned topic.
func (q *topicRequest) stored() []*topic {
	if q.t != nil {
		return []*topic{q.t}
	}
	var out []*topic
	for i := range q.partitions {
		if t := q.s.topics[fmt.Sprintf("%s%s%d", q.tn.full, partitionSuffix, i)]; t != nil {
			out = append(out, t)
		}
	}
	return out
}

func (q *topicRequest) notFound() error {
	if !q.nsExists {
		return errorf(http.StatusNotFound, "Namespace does not exist")
	}
	return errorf(http.StatusNotFound, "Topic not found")
}

func (q *topicRequest) serve(rest []string) (any, error) {
	r := q.r
	get, put, post, del := r.Method == http.MethodGet, r.Method == http.MethodPut,
		r.Method == http.MethodPost, r.Method == http.MethodDelete
	op := ""
	if len(rest) > 0 {
		op = rest[0]
	}
	switch {
	case op == "" && put:
		return q.create()
	case op == "" && del:
		return q.deleteTopic()
	case op == "partitions" && len(rest) == 1 && put:
		return q.createPartitioned()
	case op == "partitions" && len(rest) == 1 && post:
		return q.updatePartitions()
	case op == "partitions" && len(rest) == 1 && get:
		return map[string]int{"partitions": q.partitions}, nil
	case op == "partitions" && len(rest) == 1 && del:
		return q.deletePartitioned()
	case op == "stats" && len(rest) == 1 && get:
		if q.t == nil {
			return nil, q.notFound()
		}
		return topicStats(q.t), nil
	case op == "partitioned-stats" && len(rest) == 1 && get:
		return q.partitionedStats()
	case op == "internalStats" && len(rest) == 1 && get:
		if q.t == nil {
			return nil, q.notFound()
		}
		return internalStats(q.t), nil
	case op == "subscriptions" && len(rest) == 1 && get:
		if !q.exists() {
			return nil, q.notFound()
		}
		names := map[string]bool{}
		for _, t := range q.stored() {
			for n := range t.subs {
				names[n] = true
			}
		}
		return sortedMapKeys(names), nil
	case op == "subscription" && len(rest) >= 2:
		return q.serveSubscription(rest[1], rest[2:])
	case op == "ledger" && len(rest) == 4 && rest[2] == "entry" && get:
		return q.messageByID(rest[1], rest[3])
	case op == "unload" && len(rest) == 1 && put:
		if !q.exists() {
			return nil, q.notFound()
		}
		for _, t := range q.stored() {
			q.s.unloadTopicLocked(t)
		}
		return nil, nil
	case op == "terminate" && len(rest) == 1 && post:
		if q.partitioned {
			return nil, errorf(http.StatusMethodNotAllowed, "Termination of a partitioned topic is not allowed")
		}
		if q.t == nil {
			return nil, q.notFound()
		}
		return toRestID(q.s.terminateLocked(q.t)), nil
	case op == "terminate" && len(rest) == 2 && rest[1] == "partitions" && post:
		if !q.partitioned {
			return nil, errorf(http.StatusNotFound, "Partitioned topic does not exist")
		}
		out := map[int]restMessageID{}
		for i, t := range q.stored() {
			out[i] = toRestID(q.s.terminateLocked(t))
		}
		return out, nil
	case op == "backlogQuotaMap" && len(rest) == 1 && get:
		if !q.exists() {
			return nil, q.notFound()
		}
		if quotas := q.s.topicQuotas[q.tn.base]; len(quotas) > 0 {
			return quotas, nil
		}
		return map[string]backlogQuota{}, nil
	case op == "backlogQuota" && len(rest) == 1:
		if !q.exists() {
			return nil, q.notFound()
		}
		quotas := q.s.topicQuotas[q.tn.base]
		if quotas == nil {
			quotas = map[string]backlogQuota{}
			q.s.topicQuotas[q.tn.base] = quotas
		}
		return q.s.changeQuotas(r, quotas)
	case op == "lastMessageId" && len(rest) == 1 && get:
		if q.t == nil {
			return nil, q.notFound()
		}
		if n := len(q.t.entries); n > 0 {
			return toRestID(q.t.messageID(uint64(n - 1))), nil
		}
		return toRestID(q.t.messageID(math.MaxUint64)), nil
	case op == "messageid" && len(rest) == 2 && get:
		if q.t == nil {
			return nil, q.notFound()
		}
		ts, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid timestamp %q", rest[1])
		}
		i := entryAtOrAfter(q.t, uint64(ts))
		if i >= len(q.t.entries) {
			return nil, errorf(http.StatusNotFound, "Message ID not found")
		}
		return toRestID(q.t.messageID(uint64(i))), nil
	}
	if op == "" || len(rest) <= 2 {
		return nil, methodNotAllowedOrMissing(r)
	}
	return nil, errorf(http.StatusNotFound, "not found")
}

func methodNotAllowedOrMissing(r *http.Request) error {
	return errorf(http.StatusNotFound, "not found: %s %s", r.Method, r.URL.Path)
}

// entryAtOrAfter finds the first entry published at or after ts (unix ms).
func entryAtOrAfter(t *topic, ts uint64) int {
	i, _ := slices.BinarySearchFunc(t.entries, ts, func(e *entry, ts uint64) int {
		return cmp.Compare(e.meta.GetPublishTime(), ts)
	})
	return i
}

func (q *topicRequest) create() (any, error) {
	if !q.nsExists {
		return nil, errorf(http.StatusNotFound, "Namespace does not exist")
	}
	if q.exists() {
		return nil, errorf(http.StatusConflict, "This topic already exists")
	}
	if q.tn.partition >= 0 {
		if _, ok := q.s.partitioned[q.tn.base]; ok {
			return nil, errorf(http.StatusConflict, "This topic already exists")
		}
	}
	var props map[string]string
	if err := decodeBody(q.r, &props); err != nil {
		return nil, err
	}
	q.s.topicLocked(q.tn, true)
	return nil, nil
}

func (q *topicRequest) deleteTopic() (any, error) {
	if q.partitioned {
		return nil, errorf(http.StatusConflict, "Topic is a partitioned topic; delete it as one")
	}
	if q.t == nil {
		return nil, q.notFound()
	}
	if q.t.active() && !boolParam(q.r, "force") {
		return nil, errorf(http.StatusPreconditionFailed, "Topic has active producers/subscriptions")
	}
	q.s.deleteTopicLocked(q.t)
	return nil, nil
}

// partitionsBody reads a partition count sent either as a bare number or
// as partitioned-topic metadata.
func partitionsBody(r *http.Request) (int, error) {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return 0, err
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var md struct {
		Partitions int `json:"partitions"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return 0, errorf(http.StatusBadRequest, "invalid partition count: %v", err)
	}
	return md.Partitions, nil
}

func (q *topicRequest) createPartitioned() (any, error) {
	n, err := partitionsBody(q.r)
	if err != nil {
		return nil, err
	}
	switch {
	case !q.nsExists:
		return nil, errorf(http.StatusNotFound, "Namespace does not exist")
	case n <= 0:
		return nil, errorf(http.StatusNotAcceptable, "Number of partitions should be more than 0")
	case n > 10000:
		return nil, errorf(http.StatusPreconditionFailed, "Number of partitions should be at most 10000")
	case q.tn.partition >= 0:
		return nil, errorf(http.StatusPreconditionFailed, "Partitioned topic name must not end with -partition-N")
	case q.exists():
		return nil, errorf(http.StatusConflict, "This topic already exists")
	}
	q.s.createPartitionedLocked(q.tn, n)
	return nil, nil
}

func (q *topicRequest) updatePartitions() (any, error) {
	n, err := partitionsBody(q.r)
	if err != nil {
		return nil, err
	}
	switch {
	case !q.partitioned && q.t != nil:
		return nil, errorf(http.StatusConflict, "Topic is not partitioned topic")
	case !q.partitioned:
		return nil, errorf(http.StatusNotFound, "Partitioned topic does not exist")
	case n <= 0:
		return nil, errorf(http.StatusNotAcceptable, "Number of partitions should be more than 0")
	case n > 10000:
		return nil, errorf(http.StatusPreconditionFailed, "Number of partitions should be at most 10000")
	case n <= q.partitions:
		return nil, errorf(http.StatusUnprocessableEntity,
			"Number of new partitions must be greater than existing number of partitions")
	}
	q.s.updatePartitionsLocked(q.tn, n)
	return nil, nil
}

func (q *topicRequest) deletePartitioned() (any, error) {
	if !q.partitioned {
		return nil, errorf(http.StatusNotFound, "Partitioned topic does not exist")
	}
	parts := q.stored()
	if !boolParam(q.r, "force") {
		for _, t := range parts {
			if t.active() {
				return nil, errorf(http.StatusPreconditionFailed, "Topic has active producers/subscriptions")
			}
		}
	}
	for _, t := range parts {
		q.s.deleteTopicLocked(t)
	}
	delete(q.s.partitioned, q.tn.full)
	delete(q.s.schemas, q.tn.base)
	delete(q.s.topicQuotas, q.tn.base)
	return nil, nil
}

func (q *topicRequest) serveSubscription(name string, rest []string) (any, error) {
	r := q.r
	if !q.exists() {
		return nil, q.notFound()
	}
	topics := q.stored()
	var subs []*subscription
	for _, t := range topics {
		if sub := t.subs[name]; sub != nil {
			subs = append(subs, sub)
		}
	}
	if len(rest) == 0 && r.Method == http.MethodPut {
		if len(subs) > 0 {
			return nil, errorf(http.StatusConflict, "Subscription already exists for topic")
		}
		if !validName(name) {
			return nil, errorf(http.StatusPreconditionFailed, "Subscription name is not valid")
		}
		id := restMessageID{LedgerID: math.MaxInt64, EntryID: math.MaxInt64}
		if err := decodeBody(r, &id); err != nil {
			return nil, err
		}
		for _, t := range topics {
			sub := newSubscription(t, name, pb.CommandSubscribe_Exclusive, true)
			sub.seek(restStart(t, id))
			t.subs[name] = sub
		}
		return nil, nil
	}
	if len(subs) == 0 {
		return nil, errorf(http.StatusNotFound, "Subscription not found")
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodDelete:
		force := boolParam(r, "force")
		for _, sub := range subs {
			if len(sub.consumers) > 0 && !force {
				return nil, errorf(http.StatusPreconditionFailed, "Subscription has active connected consumers")
			}
		}
		for _, sub := range subs {
			for _, c := range slices.Clone(sub.consumers) {
				c.closeByBroker()
			}
			sub.stopTimer()
			delete(sub.topic.subs, sub.name)
		}
		return nil, nil
	case rest[0] == "resetcursor" && r.Method == http.MethodPost && len(rest) <= 2:
		if len(rest) == 2 {
			ts, err := strconv.ParseInt(rest[1], 10, 64)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "invalid timestamp %q", rest[1])
			}
			for _, sub := range subs {
				sub.resetTo(uint64(entryAtOrAfter(sub.topic, uint64(ts))))
			}
			return nil, nil
		}
		var id restMessageID
		if err := decodeBody(r, &id); err != nil {
			return nil, err
		}
		for _, sub := range subs {
			if q.partitioned && id.PartitionIndex >= 0 && sub.topic.name.partition != int32(id.PartitionIndex) {
				continue
			}
			sub.resetTo(restStart(sub.topic, id))
		}
		return nil, nil
	case rest[0] == "skip_all" && len(rest) == 1 && r.Method == http.MethodPost:
		for _, sub := range subs {
			sub.skip(math.MaxInt64)
		}
		return nil, nil
	case rest[0] == "skip" && len(rest) == 2 && r.Method == http.MethodPost:
		n, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil || n < 0 {
			return nil, errorf(http.StatusBadRequest, "invalid message count %q", rest[1])
		}
		for _, sub := range subs {
			sub.skip(n)
		}
		return nil, nil
	case rest[0] == "position" && len(rest) == 2 && r.Method == http.MethodGet:
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 || q.partitioned {
			return nil, errorf(http.StatusPreconditionFailed, "invalid position %q", rest[1])
		}
		sub := subs[0]
		for id := uint64(sub.markDelete + 1); id < uint64(len(sub.topic.entries)); id++ {
			if sub.isAcked(id) {
				continue
			}
			if n--; n == 0 {
				return entryResponse(sub.topic, sub.topic.entries[id])
			}
		}
		return nil, errorf(http.StatusNotFound, "No message found at position %s", rest[1])
	}
	return nil, errorf(http.StatusNotFound, "not found")
}

// restStart maps a message id given to the admin API to the first entry
// a subscription delivers.
func restStart(t *topic, id restMessageID) uint64 {
	switch {
	case id.LedgerID < 0 || id.EntryID < 0:
		return 0
	case id.LedgerID == math.MaxInt64:
		return uint64(len(t.entries))
	default:
		return uint64(id.EntryID)
	}
}

// resetTo moves the cursor and disconnects the consumers, which
// resubscribe from the new position, as a broker's reset cursor does.
func (sub *subscription) resetTo(next uint64) {
	sub.seek(next)
	for _, c := range slices.Clone(sub.consumers) {
		c.c.send(&pb.BaseCommand{
			Type:          pb.BaseCommand_CLOSE_CONSUMER.Enum(),
			CloseConsumer: &pb.CommandCloseConsumer{ConsumerId: ptr(c.id), RequestId: ptr(uint64(0))},
		}, nil)
		delete(c.c.consumers, c.id)
	}
	sub.consumers = nil
}

func ptr[T any](v T) *T { return &v }

// skip acknowledges the next n unacknowledged messages (whole entries).
func (sub *subscription) skip(n int64) {
	t := sub.topic
	for id := uint64(sub.markDelete + 1); id < uint64(len(t.entries)) && n > 0; id++ {
		if sub.isAcked(id) {
			continue
		}
		n -= int64(t.entries[id].numMessages)
		sub.ackEntry(id)
	}
	if sub.readPos < uint64(sub.markDelete+1) {
		sub.readPos = uint64(sub.markDelete + 1)
	}
}

func (q *topicRequest) messageByID(ledgerS, entryS string) (any, error) {
	ledger, err1 := strconv.ParseInt(ledgerS, 10, 64)
	entryID, err2 := strconv.ParseInt(entryS, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, errorf(http.StatusBadRequest, "invalid message id %s:%s", ledgerS, entryS)
	}
	if !q.exists() {
		return nil, q.notFound()
	}
	for _, t := range q.stored() {
		if int64(t.ledger) == ledger && entryID >= 0 && entryID < int64(len(t.entries)) {
			return entryResponse(t, t.entries[entryID])
		}
	}
	return nil, errorf(http.StatusNotFound, "Message not found")
}

// entryResponse is a stored entry as the admin API returns it: the
// uncompressed payload (a whole batch for batched messages) with its
// metadata in headers.
func entryResponse(t *topic, e *entry) (any, error) {
	pm, err := parseHeadersAndPayload(e.headersAndPayload)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "stored message cannot be read: %v", err)
	}
	payload, err := decompress(e.meta, pm.payload)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "stored message cannot be decompressed: %v", err)
	}
	h := http.Header{}
	h.Set("X-Pulsar-Message-Id", fmt.Sprintf("%d:%d", t.ledger, e.id))
	h.Set("X-Pulsar-Publish-Time", time.UnixMilli(int64(e.meta.GetPublishTime())).UTC().Format(time.RFC3339Nano))
	if e.meta.NumMessagesInBatch != nil {
		h.Set("X-Pulsar-Num-Batch-Message", strconv.Itoa(e.numMessages))
	} else if props := toMap(e.meta.GetProperties()); len(props) > 0 {
		b, _ := json.Marshal(props)
		h.Set("X-Pulsar-Property", string(b))
	}
	return rawResponse{header: h, body: payload}, nil
}
