package pulsartrace

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Attributes of the process span that the semantic conventions do not
// define for Pulsar. They follow the conventions' habit of a system
// namespace (messaging.kafka.*, messaging.rabbitmq.*).
const (
	// RedeliveryCountKey is the broker's redelivery count of the message
	// (pulsar.Message.RedeliveryCount): how often it was delivered before,
	// after a nack, an ack timeout or a consumer failure. Recorded on every
	// process span, 0 included.
	RedeliveryCountKey = attribute.Key("messaging.pulsar.message.redelivery_count")
	// ReconsumeTimesKey is how often the message went through the retry
	// topic with ReconsumeLater (the client's RECONSUMETIMES property).
	// Recorded only on messages read from a retry or dead-letter topic.
	ReconsumeTimesKey = attribute.Key("messaging.pulsar.message.reconsume_times")
	// AcknowledgmentTypeKey records how a message was settled, with the
	// key and values of the Pulsar Java client's tracing: acknowledge,
	// cumulative_acknowledge, negative_acknowledge (ack_timeout never
	// happens: this client has no consumer ack timeout). Two settlements
	// that client does not have keep their own names under the same key:
	// reconsume_later and abandoned (the consumer closed, or the message
	// fell out of the WithMaxUnsettled bound, before it was settled).
	AcknowledgmentTypeKey = attribute.Key("messaging.pulsar.acknowledgment.type")
)

// consumer is a pulsar.Consumer that starts a process span for every
// message it hands out and ends it when the message is settled. Its
// methods are safe for concurrent use.
type consumer struct {
	pulsar.Consumer
	in   *messaging.Instrumenter
	sub  string
	name string // messaging.client.id
	// anonymous is the destination of operations not tied to a message
	// of a known topic: a failed Receive, an AckID of an untracked id.
	anonymous *messaging.Destination
	open      *unsettled

	// release, when set, tells the client that made c that c is closed.
	release func()

	mu     sync.Mutex // guards closed, ch, src and the start of pump
	closed bool
	ch     chan pulsar.ConsumerMessage
	src    <-chan pulsar.ConsumerMessage // the client's channel, once Chan is called
	done   chan struct{}
	pumps  sync.WaitGroup
	once   sync.Once
}

var _ pulsar.Consumer = (*consumer)(nil)

// errNoMessage reports a Receive of the wrapped consumer that returned
// neither a message nor an error.
var errNoMessage = errors.New("pulsartrace: the consumer returned no message")

// WrapConsumer returns a pulsar.Consumer that receives from c and traces
// every message. Messages come out of Receive and Chan carrying the context
// of their process span: get it with [ContextFromMessage]. Settle them
// through the returned consumer (or the Consumer field of a
// ConsumerMessage from Chan, which is the same) so that the span ends with
// the outcome; close the returned consumer, not c, so that it can end the
// spans of messages never settled.
//
// Wrapping an already wrapped consumer returns it unchanged. It panics if c
// is nil.
func WrapConsumer(c pulsar.Consumer, opts ...asynctrace.Option) pulsar.Consumer {
	if c == nil {
		panic("pulsartrace.WrapConsumer: consumer is nil")
	}
	cfg, s := resolve("WrapConsumer", opts)
	if w, ok := c.(*consumer); ok {
		return w
	}
	return newConsumer(c, newInstrumenter(cfg), s)
}

func newConsumer(c pulsar.Consumer, in *messaging.Instrumenter, s settings) *consumer {
	sub, name := c.Subscription(), c.Name()
	return &consumer{
		Consumer:  c,
		in:        in,
		sub:       sub,
		name:      name,
		anonymous: in.DestinationFor(messaging.Target{Subscription: sub, ClientID: name}),
		open:      newUnsettled(s.maxUnsettled),
		done:      make(chan struct{}),
	}
}

// UnwrapConsumer returns the consumer that [WrapConsumer] wrapped, or c
// itself when it is not a traced consumer.
func UnwrapConsumer(c pulsar.Consumer) pulsar.Consumer {
	if w, ok := c.(*consumer); ok {
		return w.Consumer
	}
	return c
}

// Receive waits for the next message, like the client's Receive, and
// returns it with its process span started. The span's context is not
// tied to ctx's cancellation (ctx only bounds the wait); get it with
// [ContextFromMessage].
func (c *consumer) Receive(ctx context.Context) (pulsar.Message, error) {
	_, msg, err := c.receive(ctx, true)
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// receiveContext waits for the next message and returns it with the
// context of its process span. That context is derived from ctx: it holds
// ctx's values and is done when ctx is done.
func (c *consumer) receiveContext(ctx context.Context) (context.Context, pulsar.Message, error) {
	pctx, msg, err := c.receive(ctx, false)
	if err != nil {
		return ctx, nil, err
	}
	return pctx, msg, nil
}

func (c *consumer) receive(ctx context.Context, detach bool) (context.Context, *tracedMessage, error) {
	start := c.in.Now(ctx)
	m, held, err := c.next(ctx)
	if err == nil && m == nil && held == nil {
		err = errNoMessage
	}
	if err != nil {
		c.in.Received(ctx, c.anonymous, start, nil, "", err)
		return ctx, nil, err
	}
	if held != nil {
		c.in.RecordReceive(ctx, held.dl.d, start, nil)
		pctx := held.dl.proc.Context()
		if !detach {
			pctx = rebase(ctx, pctx)
		}
		return pctx, held, nil
	}
	base := ctx
	if detach && ctx.Done() != nil {
		base = context.WithoutCancel(ctx)
	}
	d := c.destinationOfMessage(m.Topic())
	if c.in.ReceiveSpans() {
		base = c.in.Received(base, d, start, m.Properties(), messageIDOf(m), nil)
	} else {
		c.in.Received(ctx, d, start, nil, "", nil)
	}
	tm := c.deliverTo(base, m, d)
	return tm.dl.proc.Context(), tm, nil
}

// next waits for the client's next message. Before Chan is called it is
// the client's Receive. After, the goroutine feeding the channel may have
// taken a message no reader of the channel wants yet: next takes that one
// (already traced, returned as held) as readily as one still with the
// client, so that the channel and Receive share one stream and an unread
// channel keeps nothing from Receive.
func (c *consumer) next(ctx context.Context) (m pulsar.Message, held *tracedMessage, err error) {
	c.mu.Lock()
	out, src := c.ch, c.src
	c.mu.Unlock()
	if out == nil {
		m, err = c.Consumer.Receive(ctx)
		return m, nil, err
	}
	select {
	case cm := <-out:
		if tm, ok := cm.Message.(*tracedMessage); ok {
			return nil, tm, nil
		}
		return nil, nil, errNoMessage
	case cm, ok := <-src:
		if ok {
			return cm.Message, nil, nil
		}
	case <-c.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// Closed, or a channel that has nothing more: the client's Receive
	// gives its own answer.
	m, err = c.Consumer.Receive(ctx)
	return m, nil, err
}

// rebase returns ctx carrying the span and baggage of pctx, for a message
// whose process span started before the caller's ctx was known.
func rebase(ctx, pctx context.Context) context.Context {
	ctx = trace.ContextWithSpan(ctx, trace.SpanFromContext(pctx))
	return baggage.ContextWithBaggage(ctx, baggage.FromContext(pctx))
}

// messageIDOf formats m's id, for the spans that record it.
func messageIDOf(m pulsar.Message) string {
	if id := m.ID(); id != nil {
		return formatMessageID(id)
	}
	return ""
}

// destinationOfMessage is the destination of a message from topic: the
// topic without its partition suffix, with the partition as
// messaging.destination.partition.id.
func (c *consumer) destinationOfMessage(topic string) *messaging.Destination {
	return c.in.DestinationFor(messaging.Target{
		Name:         destinationName(topic),
		Subscription: c.sub,
		Partition:    partitionOf(topic),
		ClientID:     c.name,
	})
}

// Chan returns a channel of the consumer's messages, like the client's
// Chan, each wrapped with its process span started. The ConsumerMessage's
// Consumer is c. As with the client, the channel is never closed; it stops
// delivering when c is closed. A message's span starts when it is taken
// from the client's channel, which happens at most one message ahead of
// the reader. Receive takes that message too, so calling Chan and not
// reading from it keeps no message from Receive.
func (c *consumer) Chan() <-chan pulsar.ConsumerMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan pulsar.ConsumerMessage)
		c.src = c.Consumer.Chan()
		if !c.closed {
			c.pumps.Add(1)
			go c.pump(c.src)
		}
	}
	return c.ch
}

// pump moves messages from the client's channel to c's, starting their
// spans. It holds at most one message nobody has taken, which goes to the
// first reader of the channel or caller of Receive; if c closes first, that
// message's span is ended as abandoned by Close and the broker redelivers
// the message, which was never acknowledged.
func (c *consumer) pump(in <-chan pulsar.ConsumerMessage) {
	defer c.pumps.Done()
	for {
		select {
		case <-c.done:
			return
		case cm, ok := <-in:
			if !ok {
				// The client never closes its channel, but another
				// implementation may: a closed channel has nothing more.
				return
			}
			out := pulsar.ConsumerMessage{Consumer: c, Message: cm.Message}
			if cm.Message != nil {
				out.Message = c.deliver(context.Background(), cm.Message)
			}
			select {
			case c.ch <- out:
			case <-c.done:
				return
			}
		}
	}
}

// deliver starts the process span of m and tracks it until settlement.
func (c *consumer) deliver(ctx context.Context, m pulsar.Message) *tracedMessage {
	return c.deliverTo(ctx, m, c.destinationOfMessage(m.Topic()))
}

func (c *consumer) deliverTo(ctx context.Context, m pulsar.Message, d *messaging.Destination) *tracedMessage {
	tm := &tracedMessage{Message: m}
	dl := &tm.dl
	dl.d = d
	dl.topic = m.Topic()
	id := m.ID()
	if id != nil {
		dl.key = keyOf(id)
	}
	_, dl.proc = c.in.StartProcessAt(ctx, dl.d, m.Properties(), "", len(m.Payload()), m.PublishTime())
	setProcessAttributes(dl.proc, m)
	if id == nil {
		// Nothing could ever settle it by id; it ends on Close.
		dl.key = idKey{ledger: -1, entry: -1, batch: -1, partition: -1}
	}
	evicted, ok := c.open.add(dl)
	if !ok {
		dl.proc.End(messaging.SettleAbandoned, nil)
	}
	for _, old := range evicted {
		old.proc.End(messaging.SettleAbandoned, nil)
	}
	return tm
}

// setProcessAttributes records what Pulsar adds to a process span beyond
// the core's attributes. The message id is set here rather than handed to
// StartProcess so that it is formatted only for spans that record it.
func setProcessAttributes(proc messaging.Process, m pulsar.Message) {
	span := proc.Span()
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	if id := m.ID(); id != nil {
		attrs = append(attrs, semconv.MessagingMessageID(formatMessageID(id)))
	}
	attrs = append(attrs, RedeliveryCountKey.Int64(int64(m.RedeliveryCount())))
	if v, ok := m.Properties()[pulsar.SysPropertyReconsumeTimes]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			attrs = append(attrs, ReconsumeTimesKey.Int(n))
		}
	}
	span.SetAttributes(attrs...)
}

// Ack acknowledges msg through the wrapped consumer and ends its span
// with settlement "ack" (and the error of the ack, if any).
func (c *consumer) Ack(msg pulsar.Message) error {
	if msg == nil {
		return c.Consumer.Ack(msg)
	}
	start := c.in.Now(context.Background())
	err := c.Consumer.Ack(UnwrapMessage(msg))
	c.settle(msg.ID(), msg.Topic(), messaging.SettleAck, start, err, nil)
	return err
}

// AckID acknowledges the message with id msgID and ends its span.
func (c *consumer) AckID(msgID pulsar.MessageID) error {
	if msgID == nil {
		return c.Consumer.AckID(msgID)
	}
	start := c.in.Now(context.Background())
	err := c.Consumer.AckID(msgID)
	c.settle(msgID, "", messaging.SettleAck, start, err, nil)
	return err
}

// AckIDList acknowledges the messages with the ids in msgIDs and ends
// their spans; with AckWithResponse, each span gets its own message's
// error from the client's pulsar.AckError.
func (c *consumer) AckIDList(msgIDs []pulsar.MessageID) error {
	start := c.in.Now(context.Background())
	err := c.Consumer.AckIDList(msgIDs)
	var perID pulsar.AckError
	errors.As(err, &perID)
	var dls []*delivery
	var errs []error
	for _, id := range msgIDs {
		if id == nil {
			continue
		}
		idErr := err
		if perID != nil {
			idErr = ackErrorFor(perID, id)
		}
		for k := keyOf(id); ; {
			dl, more := c.open.takeOne(k)
			if dl == nil {
				break
			}
			dls, errs = append(dls, dl), append(errs, idErr)
			if !more {
				break
			}
		}
	}
	// One call, one settle span and one duration, attributed to the
	// destination of the messages it settled.
	c.endAll(dls, errs, messaging.SettleAck, start, err)
	return err
}

// endAll records one settle call for dls, then ends their spans, each
// with its own error.
func (c *consumer) endAll(dls []*delivery, errs []error, s messaging.Settlement, start time.Time, callErr error) {
	if len(dls) == 0 {
		c.in.Settled(c.anonymous, s, start, callErr)
		return
	}
	procs := make([]messaging.Process, len(dls))
	for i, dl := range dls {
		procs[i] = dl.proc
	}
	c.in.Settled(dls[len(dls)-1].d, s, start, callErr, procs...)
	for i, dl := range dls {
		var err error
		if errs != nil {
			err = errs[i]
		}
		dl.proc.End(s, err)
	}
}

// ackErrorFor finds id's error in a pulsar.AckError, whose keys may be
// other MessageID values of the same position.
func ackErrorFor(ackErr pulsar.AckError, id pulsar.MessageID) error {
	if err, ok := ackErr[id]; ok {
		return err
	}
	k := keyOf(id)
	for other, err := range ackErr {
		if other != nil && keyOf(other) == k {
			return err
		}
	}
	return nil
}

// AckWithTxn acknowledges msg within txn and ends its span with
// settlement "ack". The span ends when the ack is handed to the
// transaction, not when the transaction commits.
func (c *consumer) AckWithTxn(msg pulsar.Message, txn pulsar.Transaction) error {
	if msg == nil {
		return c.Consumer.AckWithTxn(msg, txn)
	}
	start := c.in.Now(context.Background())
	err := c.Consumer.AckWithTxn(UnwrapMessage(msg), txn)
	c.settle(msg.ID(), msg.Topic(), messaging.SettleAck, start, err, nil)
	return err
}

// AckCumulative acknowledges msg and every earlier message of its topic
// partition, and ends the spans of all of them that are open.
func (c *consumer) AckCumulative(msg pulsar.Message) error {
	if msg == nil {
		return c.Consumer.AckCumulative(msg)
	}
	start := c.in.Now(context.Background())
	err := c.Consumer.AckCumulative(UnwrapMessage(msg))
	c.settleCumulative(msg.ID(), msg.Topic(), start, err)
	return err
}

// AckIDCumulative acknowledges the message with id msgID and every
// earlier message of its partition, and ends their open spans. The topic
// is taken from msgID's own open message; when that one is no longer open
// and the consumer reads several topics, a message id does not tell which
// topic it belongs to, and earlier open messages of the same partition
// index on every topic are ended.
func (c *consumer) AckIDCumulative(msgID pulsar.MessageID) error {
	if msgID == nil {
		return c.Consumer.AckIDCumulative(msgID)
	}
	start := c.in.Now(context.Background())
	err := c.Consumer.AckIDCumulative(msgID)
	c.settleCumulative(msgID, "", start, err)
	return err
}

func (c *consumer) settleCumulative(id pulsar.MessageID, topic string, start time.Time, err error) {
	if err != nil || id == nil {
		// Nothing was acknowledged: only the message named ends, with
		// the error; earlier ones stay open for their own settlement.
		c.settle(id, topic, messaging.SettleCumulativeAck, start, err, nil)
		return
	}
	done := c.open.takeCumulative(keyOf(id), topic)
	if len(done) == 0 {
		c.in.Settled(c.destinationOf(topic), messaging.SettleCumulativeAck, start, nil)
		return
	}
	c.endAll(done, nil, messaging.SettleCumulativeAck, start, nil)
}

// Nack asks for msg to be redelivered and ends its span with settlement
// "nack".
func (c *consumer) Nack(msg pulsar.Message) {
	if msg == nil {
		c.Consumer.Nack(msg)
		return
	}
	start := c.in.Now(context.Background())
	c.Consumer.Nack(UnwrapMessage(msg))
	c.settle(msg.ID(), msg.Topic(), messaging.SettleNack, start, nil, nil)
}

// NackID asks for the message with id msgID to be redelivered and ends
// its span with settlement "nack".
func (c *consumer) NackID(msgID pulsar.MessageID) {
	if msgID == nil {
		c.Consumer.NackID(msgID)
		return
	}
	start := c.in.Now(context.Background())
	c.Consumer.NackID(msgID)
	c.settle(msgID, "", messaging.SettleNack, start, nil, nil)
}

// ReconsumeLater sends msg to the retry topic for redelivery after delay
// and ends its span with settlement "reconsume_later". The client copies
// msg's properties, trace context included, so the redelivered message
// continues the trace of the original send.
func (c *consumer) ReconsumeLater(msg pulsar.Message, delay time.Duration) {
	if msg == nil {
		c.Consumer.ReconsumeLater(msg, delay)
		return
	}
	start := c.in.Now(context.Background())
	c.Consumer.ReconsumeLater(UnwrapMessage(msg), delay)
	c.settle(msg.ID(), msg.Topic(), messaging.SettleReconsumeLater, start, nil, nil)
}

// ReconsumeLaterWithCustomProperties is ReconsumeLater with properties
// added to the retried message. Trace context in customProperties replaces
// the original.
func (c *consumer) ReconsumeLaterWithCustomProperties(msg pulsar.Message, customProperties map[string]string, delay time.Duration) {
	if msg == nil {
		c.Consumer.ReconsumeLaterWithCustomProperties(msg, customProperties, delay)
		return
	}
	start := c.in.Now(context.Background())
	c.Consumer.ReconsumeLaterWithCustomProperties(UnwrapMessage(msg), customProperties, delay)
	c.settle(msg.ID(), msg.Topic(), messaging.SettleReconsumeLater, start, nil, nil)
}

// settle records the settle call and ends the spans of every open
// delivery of id. handlerErr, when set, is what the process spans record
// instead of the settle call's own error.
func (c *consumer) settle(id pulsar.MessageID, topic string, s messaging.Settlement, start time.Time, callErr, handlerErr error) {
	spanErr := callErr
	if handlerErr != nil {
		spanErr = handlerErr
	}
	if id == nil {
		c.in.Settled(c.destinationOf(topic), s, start, callErr)
		return
	}
	k := keyOf(id)
	dl, more := c.open.takeOne(k)
	if dl == nil {
		c.in.Settled(c.destinationOf(topic), s, start, callErr)
		return
	}
	if !more {
		// The common case: one delivery, no slice.
		c.in.Settled(dl.d, s, start, callErr, dl.proc)
		dl.proc.End(s, spanErr)
		return
	}
	dls, errs := []*delivery{dl}, []error{spanErr}
	for more {
		if dl, more = c.open.takeOne(k); dl == nil {
			break
		}
		dls, errs = append(dls, dl), append(errs, spanErr)
	}
	c.endAll(dls, errs, s, start, callErr)
}

func (c *consumer) destinationOf(topic string) *messaging.Destination {
	if topic == "" {
		return c.anonymous
	}
	return c.destinationOfMessage(topic)
}

// Close stops delivering messages, closes the wrapped consumer and ends
// the span of every message not settled yet with settlement "abandoned":
// the broker will redeliver those messages to another consumer.
func (c *consumer) Close() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.done)
		c.mu.Unlock()
		c.pumps.Wait()
		c.Consumer.Close()
		for _, dl := range c.open.close() {
			dl.proc.End(messaging.SettleAbandoned, nil)
		}
		if c.release != nil {
			c.release()
		}
	})
}
