package pulsartest

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

const (
	// maxBatchMessages bounds the batch size a SEND may declare; the
	// client's own limit defaults to 1000.
	maxBatchMessages = 1 << 20

	serverVersion = "pulsartest"
	// protocolVersion is the newest protocol revision whose features this
	// broker implements well enough for pulsar-client-go.
	protocolVersion = 21
)

// producer is one client producer attached to a topic.
type producer struct {
	id    uint64
	name  string
	topic *topic
	c     *conn
	// failed is set after an injected send failure: later SENDs of this
	// producer on this connection are ignored, as the client is about to
	// drop the connection and must not see them stored.
	failed        bool
	mode          pb.ProducerAccessMode
	requestID     uint64 // of the PRODUCER command, echoed when a waiting producer becomes ready
	ready         bool   // false while waiting for exclusive access
	schemaVersion []byte
	since         time.Time
}

// handle runs one command. It returns false when the connection must be
// closed.
func (c *conn) handle(f frame) bool {
	cmd := f.cmd
	// Each command type's number is also the field number of its body in
	// BaseCommand; a frame that names a type without the body is refused
	// before any handler dereferences it.
	m := cmd.ProtoReflect()
	if fd := m.Descriptor().Fields().ByNumber(protoreflect.FieldNumber(cmd.GetType())); fd == nil || !m.Has(fd) {
		c.sendError(requestIDOf(cmd), pb.ServerError_UnknownError,
			fmt.Sprintf("pulsartest: %s command without its body", cmd.GetType()))
		return false
	}
	if cmd.GetType() != pb.BaseCommand_CONNECT {
		c.s.mu.Lock()
		ok := c.connected
		c.s.mu.Unlock()
		if !ok {
			c.sendError(requestIDOf(cmd), pb.ServerError_NotAllowedError, "CONNECT must be the first command")
			return false
		}
	}
	switch cmd.GetType() {
	case pb.BaseCommand_CONNECT:
		return c.handleConnect(cmd.GetConnect())
	case pb.BaseCommand_PING:
		c.send(&pb.BaseCommand{Type: pb.BaseCommand_PONG.Enum(), Pong: &pb.CommandPong{}}, nil)
	case pb.BaseCommand_PONG:
	case pb.BaseCommand_LOOKUP:
		c.handleLookup(cmd.GetLookupTopic())
	case pb.BaseCommand_PARTITIONED_METADATA:
		c.handlePartitionedMetadata(cmd.GetPartitionMetadata())
	case pb.BaseCommand_PRODUCER:
		c.handleProducer(cmd.GetProducer())
	case pb.BaseCommand_SEND:
		return c.handleSend(cmd.GetSend(), f.headersAndPayload)
	case pb.BaseCommand_CLOSE_PRODUCER:
		c.handleCloseProducer(cmd.GetCloseProducer())
	case pb.BaseCommand_SUBSCRIBE:
		c.handleSubscribe(cmd.GetSubscribe())
	case pb.BaseCommand_FLOW:
		c.handleFlow(cmd.GetFlow())
	case pb.BaseCommand_ACK:
		c.handleAck(cmd.GetAck())
	case pb.BaseCommand_REDELIVER_UNACKNOWLEDGED_MESSAGES:
		c.handleRedeliver(cmd.GetRedeliverUnacknowledgedMessages())
	case pb.BaseCommand_UNSUBSCRIBE:
		c.handleUnsubscribe(cmd.GetUnsubscribe())
	case pb.BaseCommand_CLOSE_CONSUMER:
		c.handleCloseConsumer(cmd.GetCloseConsumer())
	case pb.BaseCommand_SEEK:
		c.handleSeek(cmd.GetSeek())
	case pb.BaseCommand_GET_LAST_MESSAGE_ID:
		c.handleGetLastMessageID(cmd.GetGetLastMessageId())
	case pb.BaseCommand_GET_SCHEMA:
		c.handleGetSchema(cmd.GetGetSchema())
	case pb.BaseCommand_GET_OR_CREATE_SCHEMA:
		c.handleGetOrCreateSchema(cmd.GetGetOrCreateSchema())
	case pb.BaseCommand_GET_TOPICS_OF_NAMESPACE:
		c.handleGetTopicsOfNamespace(cmd.GetGetTopicsOfNamespace())
	default:
		// Transactions, authentication refresh, consumer stats and the rest
		// are not implemented; the client gets a clear failure for its
		// request instead of waiting for its operation timeout.
		c.s.log.Info("pulsartest: unsupported command", "conn", c.id, "type", cmd.GetType().String())
		c.sendError(requestIDOf(cmd), pb.ServerError_NotAllowedError,
			fmt.Sprintf("pulsartest: command %s is not supported", cmd.GetType()))
	}
	return true
}

// requestIDOf finds the request_id of whichever sub-command is set, so that
// an error reply completes the right pending request in the client.
func requestIDOf(cmd *pb.BaseCommand) uint64 {
	var id uint64
	cmd.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		m := v.Message()
		if f := m.Descriptor().Fields().ByName("request_id"); f != nil && m.Has(f) {
			id = m.Get(f).Uint()
			return false
		}
		return true
	})
	return id
}

func (c *conn) handleConnect(cmd *pb.CommandConnect) bool {
	c.s.mu.Lock()
	c.connected = true
	c.clientVersion = cmd.GetClientVersion()
	c.since = time.Now()
	c.s.mu.Unlock()
	c.send(&pb.BaseCommand{
		Type: pb.BaseCommand_CONNECTED.Enum(),
		Connected: &pb.CommandConnected{
			ServerVersion:   proto.String(serverVersion),
			ProtocolVersion: proto.Int32(min(cmd.GetProtocolVersion(), protocolVersion)),
			MaxMessageSize:  proto.Int32(int32(c.s.cfg.maxMessageSize)),
			FeatureFlags:    &pb.FeatureFlags{},
		},
	}, nil)
	return true
}

func (c *conn) handleLookup(cmd *pb.CommandLookupTopic) {
	resp := &pb.CommandLookupTopicResponse{RequestId: proto.Uint64(cmd.GetRequestId())}
	if _, err := parseTopic(cmd.GetTopic()); err != nil {
		resp.Response = pb.CommandLookupTopicResponse_Failed.Enum()
		resp.Error = pb.ServerError_InvalidTopicName.Enum()
		resp.Message = proto.String(err.Error())
	} else {
		resp.Response = pb.CommandLookupTopicResponse_Connect.Enum()
		resp.BrokerServiceUrl = proto.String(c.s.url)
		resp.Authoritative = proto.Bool(true)
	}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_LOOKUP_RESPONSE.Enum(), LookupTopicResponse: resp}, nil)
}

func (c *conn) handlePartitionedMetadata(cmd *pb.CommandPartitionedTopicMetadata) {
	resp := &pb.CommandPartitionedTopicMetadataResponse{RequestId: proto.Uint64(cmd.GetRequestId())}
	tn, err := parseTopic(cmd.GetTopic())
	if err != nil {
		resp.Response = pb.CommandPartitionedTopicMetadataResponse_Failed.Enum()
		resp.Error = pb.ServerError_InvalidTopicName.Enum()
		resp.Message = proto.String(err.Error())
	} else {
		c.s.mu.Lock()
		n := c.s.partitioned[tn.full]
		c.s.mu.Unlock()
		resp.Response = pb.CommandPartitionedTopicMetadataResponse_Success.Enum()
		resp.Partitions = proto.Uint32(uint32(n))
	}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_PARTITIONED_METADATA_RESPONSE.Enum(), PartitionMetadataResponse: resp}, nil)
}

// resolveTopicLocked parses a topic for a producer or consumer and refuses
// the base name of a partitioned topic, which has no storage of its own.
func (s *Server) resolveTopicLocked(name string) (*topic, pb.ServerError, error) {
	tn, err := parseTopic(name)
	if err != nil {
		return nil, pb.ServerError_InvalidTopicName, err
	}
	if _, ok := s.partitioned[tn.full]; ok {
		return nil, pb.ServerError_NotAllowedError,
			fmt.Errorf("%s is a partitioned topic; use its partitions", tn.full)
	}
	return s.topicLocked(tn, true), 0, nil
}

func (c *conn) handleProducer(cmd *pb.CommandProducer) {
	s := c.s
	reqID := cmd.GetRequestId()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, code, err := s.resolveTopicLocked(cmd.GetTopic())
	if err != nil {
		c.sendError(reqID, code, err.Error())
		return
	}
	name := cmd.GetProducerName()
	if name != "" && s.faults.takeProducerRefusal(t.name.full, name) {
		s.log.Info("pulsartest: refusing reconnecting producer after injected send failure", "topic", t.name.full, "producer", name)
		c.sendError(reqID, pb.ServerError_ProducerBlockedQuotaExceededException,
			"pulsartest: injected send failure")
		return
	}
	if p, exists := c.producers[cmd.GetProducerId()]; exists {
		// A retried PRODUCER for a producer that exists succeeds, as on a
		// real broker (once it is ready).
		if p.ready {
			c.send(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER_SUCCESS.Enum(), ProducerSuccess: t.producerSuccess(p)}, nil)
		}
		return
	}
	if t.terminated {
		c.sendError(reqID, pb.ServerError_TopicTerminatedError, "Topic was already terminated")
		return
	}
	switch s.quotaExceededLocked(t) {
	case policyHold:
		c.sendError(reqID, pb.ServerError_ProducerBlockedQuotaExceededError,
			"Cannot create producer on topic with backlog quota exceeded")
		return
	case policyException:
		c.sendError(reqID, pb.ServerError_ProducerBlockedQuotaExceededException,
			"Cannot create producer on topic with backlog quota exceeded")
		return
	}
	if name != "" {
		for _, other := range t.allProducers() {
			if other.name == name {
				c.sendError(reqID, pb.ServerError_ProducerBusy,
					fmt.Sprintf("pulsartest: producer %q is already connected to %s", name, t.name.full))
				return
			}
		}
	}
	if name == "" {
		name = fmt.Sprintf("pulsartest-%d-%d", c.id, s.nextProdNum)
		s.nextProdNum++
	}
	p := &producer{
		id: cmd.GetProducerId(), name: name, topic: t, c: c,
		mode: cmd.GetProducerAccessMode(), requestID: reqID, since: time.Now(), ready: true,
	}
	// Without a schema version the client would ask for one before every
	// send.
	if cmd.Schema != nil {
		p.schemaVersion = t.schemas.register(cmd.Schema)
	}
	if sn := cmd.GetInitialSubscriptionName(); sn != "" {
		// A dead-letter producer asks for a subscription that keeps what
		// it writes until someone consumes it.
		if _, ok := t.subs[sn]; !ok {
			sub := newSubscription(t, sn, pb.CommandSubscribe_Shared, true)
			sub.seek(0)
			t.subs[sn] = sub
		}
	}
	holder := func() string {
		if t.exclusive != nil {
			return t.exclusive.name
		}
		return ""
	}
	switch p.mode {
	case pb.ProducerAccessMode_Shared:
		if t.exclusive != nil || len(t.waiting) > 0 {
			c.sendError(reqID, pb.ServerError_ProducerBusy, "Topic has an existing exclusive producer: "+holder())
			return
		}
	case pb.ProducerAccessMode_Exclusive:
		switch {
		case t.exclusive != nil:
			c.sendError(reqID, pb.ServerError_ProducerFenced, "Topic has an existing exclusive producer: "+holder())
			return
		case len(t.producers) > 0:
			c.sendError(reqID, pb.ServerError_ProducerFenced, "Topic has existing shared producers")
			return
		case cmd.TopicEpoch != nil && cmd.GetTopicEpoch() < t.epoch:
			c.sendError(reqID, pb.ServerError_ProducerFenced, fmt.Sprintf(
				"Topic epoch has already moved. Current epoch: %d, Producer epoch: %d", t.epoch, cmd.GetTopicEpoch()))
			return
		}
		t.grantExclusive(p, cmd)
	case pb.ProducerAccessMode_ExclusiveWithFencing:
		for _, other := range t.allProducers() {
			other.closeByBroker()
		}
		t.grantExclusive(p, nil)
	case pb.ProducerAccessMode_WaitForExclusive:
		if t.exclusive != nil || len(t.producers) > 0 {
			// The client waits for a second PRODUCER_SUCCESS, sent when the
			// producer holding the topic goes away.
			p.ready = false
			t.waiting = append(t.waiting, p)
			c.producers[p.id] = p
			resp := t.producerSuccess(p)
			resp.ProducerReady = proto.Bool(false)
			c.send(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER_SUCCESS.Enum(), ProducerSuccess: resp}, nil)
			return
		}
		t.grantExclusive(p, cmd)
	}
	c.producers[p.id] = p
	t.producers[p] = struct{}{}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER_SUCCESS.Enum(), ProducerSuccess: t.producerSuccess(p)}, nil)
}

// grantExclusive makes p the topic's exclusive producer in a new epoch, or
// in the epoch a reconnecting producer already had.
func (t *topic) grantExclusive(p *producer, cmd *pb.CommandProducer) {
	if cmd != nil && cmd.TopicEpoch != nil {
		t.epoch = cmd.GetTopicEpoch()
	} else {
		t.epoch++
	}
	t.exclusive = p
}

func (t *topic) producerSuccess(p *producer) *pb.CommandProducerSuccess {
	resp := &pb.CommandProducerSuccess{
		RequestId:      proto.Uint64(p.requestID),
		ProducerName:   proto.String(p.name),
		LastSequenceId: proto.Int64(-1),
		ProducerReady:  proto.Bool(true),
		SchemaVersion:  p.schemaVersion,
	}
	if p.mode != pb.ProducerAccessMode_Shared {
		resp.TopicEpoch = proto.Uint64(t.epoch)
	}
	if last, ok := t.lastSeq[p.name]; ok {
		resp.LastSequenceId = proto.Int64(last)
	}
	return resp
}

func (c *conn) sendSendError(producerID, seq uint64, code pb.ServerError, msg string) {
	c.send(&pb.BaseCommand{
		Type: pb.BaseCommand_SEND_ERROR.Enum(),
		SendError: &pb.CommandSendError{
			ProducerId: proto.Uint64(producerID),
			SequenceId: proto.Uint64(seq),
			Error:      code.Enum(),
			Message:    proto.String(msg),
		},
	}, nil)
}

func (c *conn) handleSend(cmd *pb.CommandSend, data []byte) bool {
	s := c.s
	if !s.faults.sleepSendDelay(s.done, c.done) {
		return true
	}
	pm, perr := parseHeadersAndPayload(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := c.producers[cmd.GetProducerId()]
	switch {
	case !ok || !p.ready:
		c.sendSendError(cmd.GetProducerId(), cmd.GetSequenceId(), pb.ServerError_NotAllowedError,
			"pulsartest: unknown producer")
		return true
	case p.failed:
		return true
	case p.topic.terminated:
		c.sendSendError(p.id, cmd.GetSequenceId(), pb.ServerError_TopicTerminatedError, "Topic was already terminated")
		return true
	case errors.Is(perr, errChecksum):
		// The client reconnects and sends the message again.
		c.sendSendError(p.id, cmd.GetSequenceId(), pb.ServerError_ChecksumError, perr.Error())
		return true
	case perr == nil && pm.metadata.GetNumMessagesInBatch() > maxBatchMessages:
		perr = fmt.Errorf("%w: batch of %d messages", errMalformed, pm.metadata.GetNumMessagesInBatch())
		fallthrough
	case perr != nil:
		s.log.Warn("pulsartest: malformed message, closing connection", "conn", c.id, "err", perr)
		c.sendError(0, pb.ServerError_UnknownError, perr.Error())
		return false
	case s.faults.takeSendFailure():
		s.log.Info("pulsartest: injected send failure", "topic", p.topic.name.full, "producer", p.name, "sequence_id", cmd.GetSequenceId())
		p.failed = true
		s.faults.refuseProducer(p.topic.name.full, p.name)
		c.sendSendError(p.id, cmd.GetSequenceId(), pb.ServerError_PersistenceError, "pulsartest: injected send failure")
		return true
	}
	t := p.topic
	e := t.append(p.name, cmd.GetSequenceId(), cmd.GetHighestSequenceId(), data, pm.metadata)
	receipt := &pb.CommandSendReceipt{
		ProducerId: proto.Uint64(p.id),
		SequenceId: proto.Uint64(cmd.GetSequenceId()),
		MessageId:  t.messageID(e.id),
	}
	if cmd.HighestSequenceId != nil {
		receipt.HighestSequenceId = proto.Uint64(cmd.GetHighestSequenceId())
	}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_SEND_RECEIPT.Enum(), SendReceipt: receipt}, nil)
	for _, name := range sortedSubNames(t) {
		t.subs[name].dispatch()
	}
	s.enforceQuotaLocked(t)
	return true
}

func sortedSubNames(t *topic) []string {
	names := make([]string, 0, len(t.subs))
	for n := range t.subs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *conn) handleCloseProducer(cmd *pb.CommandCloseProducer) {
	c.s.mu.Lock()
	if p, ok := c.producers[cmd.GetProducerId()]; ok {
		delete(c.producers, p.id)
		p.topic.removeProducer(p)
		c.s.faults.forgetProducer(p.topic.name.full, p.name)
	}
	c.s.mu.Unlock()
	c.sendSuccess(cmd.GetRequestId())
}

func (c *conn) handleSubscribe(cmd *pb.CommandSubscribe) {
	s := c.s
	reqID := cmd.GetRequestId()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, code, err := s.resolveTopicLocked(cmd.GetTopic())
	if err != nil {
		c.sendError(reqID, code, err.Error())
		return
	}
	if cmd.GetSubscription() == "" {
		c.sendError(reqID, pb.ServerError_InvalidTopicName, "pulsartest: empty subscription name")
		return
	}
	if existing, ok := c.consumers[cmd.GetConsumerId()]; ok {
		// A retried SUBSCRIBE for a consumer that already exists succeeds,
		// as on a real broker.
		if existing.sub.topic == t && existing.sub.name == cmd.GetSubscription() {
			c.sendSuccess(reqID)
			return
		}
		c.sendError(reqID, pb.ServerError_ConsumerBusy, "pulsartest: consumer id already in use")
		return
	}
	subType := cmd.GetSubType()
	sub, ok := t.subs[cmd.GetSubscription()]
	if ok && len(sub.consumers) > 0 {
		switch {
		case sub.subType != subType:
			c.sendError(reqID, pb.ServerError_ConsumerBusy,
				fmt.Sprintf("pulsartest: subscription %s is of type %s, not %s", sub.name, sub.subType, subType))
			return
		case subType == pb.CommandSubscribe_Exclusive:
			c.sendError(reqID, pb.ServerError_ConsumerBusy, "pulsartest: exclusive subscription already has a consumer")
			return
		}
	}
	if !ok {
		sub = newSubscription(t, cmd.GetSubscription(), subType, cmd.GetDurable())
		switch {
		case cmd.StartMessageId != nil && !cmd.GetDurable():
			sub.seek(startEntry(t, cmd.StartMessageId))
		case cmd.GetInitialPosition() == pb.CommandSubscribe_Earliest:
			sub.seek(0)
		default:
			sub.seek(uint64(len(t.entries)))
		}
		t.subs[sub.name] = sub
	}
	sub.subType = subType
	cons := &consumer{
		id:       cmd.GetConsumerId(),
		name:     cmd.GetConsumerName(),
		priority: cmd.GetPriorityLevel(),
		c:        c,
		sub:      sub,
		pending:  map[uint64]struct{}{},
		since:    time.Now(),
	}
	sub.addConsumer(cons)
	c.consumers[cons.id] = cons
	// No message and no ACTIVE_CONSUMER_CHANGE is pushed now: the client
	// registers the consumer only when it reads this reply, and asks for
	// messages with FLOW.
	c.sendSuccess(reqID)
}

// startEntry maps a reader's start message id to the first entry to
// deliver. The client itself skips the start message when it is exclusive.
func startEntry(t *topic, id *pb.MessageIdData) uint64 {
	ledger, entryID := int64(id.GetLedgerId()), int64(id.GetEntryId())
	switch {
	case ledger < 0 || entryID < 0: // earliest
		return 0
	case ledger == math.MaxInt64: // latest
		return uint64(len(t.entries))
	default:
		return uint64(entryID)
	}
}

func (c *conn) consumerLocked(id uint64) *consumer { return c.consumers[id] }

// requestedConsumerLocked returns the consumer a request names, or answers
// the request with ConsumerNotFound and returns nil.
func (c *conn) requestedConsumerLocked(id, requestID uint64) *consumer {
	cons := c.consumers[id]
	if cons == nil {
		c.sendError(requestID, pb.ServerError_ConsumerNotFound, "pulsartest: unknown consumer")
	}
	return cons
}

func (c *conn) handleFlow(cmd *pb.CommandFlow) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if cons := c.consumerLocked(cmd.GetConsumerId()); cons != nil {
		cons.permits += int64(cmd.GetMessagePermits())
		if !cons.flowed {
			// The client knows the consumer now: tell a Failover consumer
			// whether it is active, as brokers do.
			cons.flowed = true
			cons.sub.notifyActive()
		}
		cons.sub.dispatch()
	}
}

func (c *conn) handleAck(cmd *pb.CommandAck) {
	found := c.applyAck(cmd)
	if cmd.RequestId != nil {
		resp := &pb.CommandAckResponse{
			ConsumerId: proto.Uint64(cmd.GetConsumerId()),
			RequestId:  proto.Uint64(cmd.GetRequestId()),
		}
		if !found {
			resp.Error = pb.ServerError_ConsumerNotFound.Enum()
			resp.Message = proto.String("pulsartest: unknown consumer")
		}
		c.send(&pb.BaseCommand{Type: pb.BaseCommand_ACK_RESPONSE.Enum(), AckResponse: resp}, nil)
	}
}

// applyAck records an ACK and reports whether its consumer exists. Acks
// for consumers that are gone are ignored, as brokers do: their messages
// were already handed out again.
func (c *conn) applyAck(cmd *pb.CommandAck) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cons := c.consumerLocked(cmd.GetConsumerId())
	if cons == nil {
		return false
	}
	sub := cons.sub
	for _, id := range cmd.GetMessageId() {
		switch {
		case cmd.GetAckType() == pb.CommandAck_Cumulative:
			sub.ackCumulative(id.GetEntryId(), id.GetAckSet())
		case len(id.GetAckSet()) > 0:
			sub.ackIndexes(id.GetEntryId(), id.GetAckSet())
		default:
			sub.ackEntry(id.GetEntryId())
		}
	}
	sub.dispatch()
	return true
}

func (c *conn) handleRedeliver(cmd *pb.CommandRedeliverUnacknowledgedMessages) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cons := c.consumerLocked(cmd.GetConsumerId())
	if cons == nil {
		return
	}
	sub := cons.sub
	if len(cmd.GetMessageIds()) == 0 {
		for _, id := range sortedKeys(cons.pending) {
			sub.requeue(id)
		}
	} else {
		for _, id := range cmd.GetMessageIds() {
			if sub.pending[id.GetEntryId()] == cons {
				sub.requeue(id.GetEntryId())
			}
		}
	}
	sub.dispatch()
}

func (c *conn) handleUnsubscribe(cmd *pb.CommandUnsubscribe) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cons := c.requestedConsumerLocked(cmd.GetConsumerId(), cmd.GetRequestId())
	if cons == nil {
		return
	}
	sub := cons.sub
	if len(sub.consumers) > 1 && !cmd.GetForce() {
		c.sendError(cmd.GetRequestId(), pb.ServerError_ConsumerBusy, "pulsartest: subscription has other consumers")
		return
	}
	for _, other := range slices.Clone(sub.consumers) {
		delete(other.c.consumers, other.id)
		if other != cons {
			other.c.send(&pb.BaseCommand{
				Type:          pb.BaseCommand_CLOSE_CONSUMER.Enum(),
				CloseConsumer: &pb.CommandCloseConsumer{ConsumerId: proto.Uint64(other.id), RequestId: proto.Uint64(0)},
			}, nil)
		}
	}
	sub.consumers = nil
	sub.stopTimer()
	delete(sub.topic.subs, sub.name)
	c.sendSuccess(cmd.GetRequestId())
}

func (c *conn) handleCloseConsumer(cmd *pb.CommandCloseConsumer) {
	c.s.mu.Lock()
	if cons := c.consumerLocked(cmd.GetConsumerId()); cons != nil {
		cons.sub.removeConsumer(cons)
	}
	c.s.mu.Unlock()
	c.sendSuccess(cmd.GetRequestId())
}

// handleSeek repositions the subscription and, like a broker, disconnects
// its consumers so that they resubscribe from the new position.
func (c *conn) handleSeek(cmd *pb.CommandSeek) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cons := c.requestedConsumerLocked(cmd.GetConsumerId(), cmd.GetRequestId())
	if cons == nil {
		return
	}
	sub := cons.sub
	t := sub.topic
	switch {
	case cmd.MessageId != nil:
		sub.seek(startEntry(t, cmd.MessageId))
	case cmd.MessagePublishTime != nil:
		ts := cmd.GetMessagePublishTime()
		i, _ := slices.BinarySearchFunc(t.entries, ts, func(e *entry, ts uint64) int {
			return cmp.Compare(e.meta.GetPublishTime(), ts)
		})
		sub.seek(uint64(i))
	default:
		c.sendError(cmd.GetRequestId(), pb.ServerError_NotAllowedError, "pulsartest: seek without position")
		return
	}
	c.sendSuccess(cmd.GetRequestId())
	for _, other := range slices.Clone(sub.consumers) {
		other.c.send(&pb.BaseCommand{
			Type:          pb.BaseCommand_CLOSE_CONSUMER.Enum(),
			CloseConsumer: &pb.CommandCloseConsumer{ConsumerId: proto.Uint64(other.id), RequestId: proto.Uint64(0)},
		}, nil)
		delete(other.c.consumers, other.id)
	}
	sub.consumers = nil
	// A reader's subscription stays, with its new position, for the
	// reader's reconnection: the client resubscribes from the position it
	// started at, which a seek by time does not change.
}

func (c *conn) handleGetLastMessageID(cmd *pb.CommandGetLastMessageId) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cons := c.requestedConsumerLocked(cmd.GetConsumerId(), cmd.GetRequestId())
	if cons == nil {
		return
	}
	sub := cons.sub
	t := sub.topic
	last := t.messageID(math.MaxUint64) // entry -1: empty topic
	if n := len(t.entries); n > 0 {
		e := t.entries[n-1]
		last = t.messageID(e.id)
		if e.meta.NumMessagesInBatch != nil {
			last.BatchIndex = proto.Int32(int32(e.numMessages - 1))
		}
	}
	markDelete := t.messageID(uint64(sub.markDelete))
	c.send(&pb.BaseCommand{
		Type: pb.BaseCommand_GET_LAST_MESSAGE_ID_RESPONSE.Enum(),
		GetLastMessageIdResponse: &pb.CommandGetLastMessageIdResponse{
			LastMessageId:              last,
			RequestId:                  proto.Uint64(cmd.GetRequestId()),
			ConsumerMarkDeletePosition: markDelete,
		},
	}, nil)
}

func (c *conn) handleGetSchema(cmd *pb.CommandGetSchema) {
	resp := &pb.CommandGetSchemaResponse{RequestId: proto.Uint64(cmd.GetRequestId())}
	tn, err := parseTopic(cmd.GetTopic())
	if err != nil {
		c.sendError(cmd.GetRequestId(), pb.ServerError_InvalidTopicName, err.Error())
		return
	}
	c.s.mu.Lock()
	var sc *pb.Schema
	var version []byte
	// Partitions share their topic's schemas, so any form of the name
	// finds them.
	if l := c.s.schemas[tn.base]; l != nil {
		sc, version = l.schemaFor(cmd.GetSchemaVersion())
	}
	c.s.mu.Unlock()
	if sc == nil {
		resp.ErrorCode = pb.ServerError_TopicNotFound.Enum()
		resp.ErrorMessage = proto.String("pulsartest: schema not found")
	} else {
		resp.Schema = sc
		resp.SchemaVersion = version
	}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_GET_SCHEMA_RESPONSE.Enum(), GetSchemaResponse: resp}, nil)
}

func (c *conn) handleGetOrCreateSchema(cmd *pb.CommandGetOrCreateSchema) {
	c.s.mu.Lock()
	t, code, err := c.s.resolveTopicLocked(cmd.GetTopic())
	var version []byte
	if err == nil && cmd.Schema != nil {
		version = t.schemas.register(cmd.Schema)
	}
	c.s.mu.Unlock()
	resp := &pb.CommandGetOrCreateSchemaResponse{RequestId: proto.Uint64(cmd.GetRequestId())}
	switch {
	case err != nil:
		resp.ErrorCode = code.Enum()
		resp.ErrorMessage = proto.String(err.Error())
	case cmd.Schema == nil:
		resp.ErrorCode = pb.ServerError_IncompatibleSchema.Enum()
		resp.ErrorMessage = proto.String("pulsartest: no schema given")
	default:
		resp.SchemaVersion = version
	}
	c.send(&pb.BaseCommand{Type: pb.BaseCommand_GET_OR_CREATE_SCHEMA_RESPONSE.Enum(), GetOrCreateSchemaResponse: resp}, nil)
}

func (c *conn) handleGetTopicsOfNamespace(cmd *pb.CommandGetTopicsOfNamespace) {
	ns := cmd.GetNamespace()
	mode := cmd.GetMode()
	c.s.mu.Lock()
	var topics []string
	for name, t := range c.s.topics {
		persistent := strings.HasPrefix(name, "persistent://")
		if (mode == pb.CommandGetTopicsOfNamespace_PERSISTENT && !persistent) ||
			(mode == pb.CommandGetTopicsOfNamespace_NON_PERSISTENT && persistent) {
			continue
		}
		if t.name.namespace == ns || strings.HasSuffix(t.name.namespace, "/"+ns) {
			topics = append(topics, name)
		}
	}
	c.s.mu.Unlock()
	slices.Sort(topics)
	c.send(&pb.BaseCommand{
		Type: pb.BaseCommand_GET_TOPICS_OF_NAMESPACE_RESPONSE.Enum(),
		GetTopicsOfNamespaceResponse: &pb.CommandGetTopicsOfNamespaceResponse{
			RequestId: proto.Uint64(cmd.GetRequestId()),
			Topics:    topics,
			Filtered:  proto.Bool(false),
			Changed:   proto.Bool(true),
		},
	}, nil)
}
