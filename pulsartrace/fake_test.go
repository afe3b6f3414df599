package pulsartrace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// fakeMessage is an in-memory pulsar.Message.
type fakeMessage struct {
	topic      string
	props      map[string]string
	payload    []byte
	id         pulsar.MessageID
	redelivery uint32
}

func (m *fakeMessage) Topic() string                                   { return m.topic }
func (m *fakeMessage) ProducerName() string                            { return "fake" }
func (m *fakeMessage) Properties() map[string]string                   { return m.props }
func (m *fakeMessage) Payload() []byte                                 { return m.payload }
func (m *fakeMessage) ID() pulsar.MessageID                            { return m.id }
func (m *fakeMessage) PublishTime() time.Time                          { return time.Time{} }
func (m *fakeMessage) EventTime() time.Time                            { return time.Time{} }
func (m *fakeMessage) Key() string                                     { return "" }
func (m *fakeMessage) OrderingKey() string                             { return "" }
func (m *fakeMessage) RedeliveryCount() uint32                         { return m.redelivery }
func (m *fakeMessage) IsReplicated() bool                              { return false }
func (m *fakeMessage) GetReplicatedFrom() string                       { return "" }
func (m *fakeMessage) GetSchemaValue(any) error                        { return nil }
func (m *fakeMessage) SchemaVersion() []byte                           { return nil }
func (m *fakeMessage) GetEncryptionContext() *pulsar.EncryptionContext { return nil }
func (m *fakeMessage) Index() *uint64                                  { return nil }
func (m *fakeMessage) BrokerPublishTime() *time.Time                   { return nil }

// fakeProducer is an in-memory pulsar.Producer. It records the messages it
// is given; sendErr makes sends fail; asyncTwice makes SendAsync call the
// callback twice (a misbehaving client).
type fakeProducer struct {
	topic string

	mu         sync.Mutex
	sent       []*pulsar.ProducerMessage
	sendErr    error
	asyncTwice bool
	nextEntry  int64
	closed     bool
	wg         sync.WaitGroup
}

func (p *fakeProducer) Topic() string                      { return p.topic }
func (p *fakeProducer) Name() string                       { return "fake-producer" }
func (p *fakeProducer) LastSequenceID() int64              { return 41 }
func (p *fakeProducer) Flush() error                       { return nil }
func (p *fakeProducer) FlushWithCtx(context.Context) error { p.wg.Wait(); return nil }
func (p *fakeProducer) Close()                             { p.wg.Wait(); p.mu.Lock(); p.closed = true; p.mu.Unlock() }

func (p *fakeProducer) record(msg *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, pulsar.ErrProducerClosed
	}
	if p.sendErr != nil {
		return nil, p.sendErr
	}
	p.sent = append(p.sent, msg)
	p.nextEntry++
	return pulsar.NewMessageID(7, p.nextEntry, -1, 0), nil
}

func (p *fakeProducer) Send(_ context.Context, msg *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	return p.record(msg)
}

func (p *fakeProducer) SendAsync(_ context.Context, msg *pulsar.ProducerMessage, cb func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
	id, err := p.record(msg)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		cb(id, msg, err)
		if p.asyncTwice {
			cb(id, msg, err)
		}
	}()
}

func (p *fakeProducer) messages() []*pulsar.ProducerMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*pulsar.ProducerMessage(nil), p.sent...)
}

// fakeConsumer is an in-memory pulsar.Consumer fed through its channel.
// It records the settlement calls it gets.
type fakeConsumer struct {
	ch      chan pulsar.ConsumerMessage
	closeCh chan struct{}
	once    sync.Once

	mu      sync.Mutex
	acked   []pulsar.MessageID
	nacked  []pulsar.MessageID
	retried []pulsar.Message
	ackErr  error
	listErr pulsar.AckError
	cumErr  error
	cumul   []pulsar.MessageID
	closed  bool
}

func newFakeConsumer() *fakeConsumer {
	return &fakeConsumer{ch: make(chan pulsar.ConsumerMessage, 64), closeCh: make(chan struct{})}
}

// push delivers m as the client would.
func (c *fakeConsumer) push(m pulsar.Message) {
	c.ch <- pulsar.ConsumerMessage{Consumer: c, Message: m}
}

var errFakeClosed = errors.New("fake consumer closed")

func (c *fakeConsumer) Subscription() string                                { return "sub-1" }
func (c *fakeConsumer) Unsubscribe() error                                  { return nil }
func (c *fakeConsumer) UnsubscribeForce() error                             { return nil }
func (c *fakeConsumer) GetLastMessageIDs() ([]pulsar.TopicMessageID, error) { return nil, nil }
func (c *fakeConsumer) Name() string                                        { return "fake-consumer" }
func (c *fakeConsumer) Seek(pulsar.MessageID) error                         { return nil }
func (c *fakeConsumer) SeekByTime(time.Time) error                          { return nil }
func (c *fakeConsumer) Chan() <-chan pulsar.ConsumerMessage                 { return c.ch }

func (c *fakeConsumer) Receive(ctx context.Context) (pulsar.Message, error) {
	select {
	case cm := <-c.ch:
		return cm.Message, nil
	case <-c.closeCh:
		return nil, errFakeClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *fakeConsumer) ackID(id pulsar.MessageID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ackErr != nil {
		return c.ackErr
	}
	c.acked = append(c.acked, id)
	return nil
}

func (c *fakeConsumer) Ack(m pulsar.Message) error {
	if _, ok := m.(*fakeMessage); !ok {
		return fmt.Errorf("fake consumer: Ack got %T, want the client's message", m)
	}
	return c.ackID(m.ID())
}
func (c *fakeConsumer) AckID(id pulsar.MessageID) error { return c.ackID(id) }
func (c *fakeConsumer) AckIDList(ids []pulsar.MessageID) error {
	if c.listErr != nil {
		return c.listErr
	}
	for _, id := range ids {
		if err := c.ackID(id); err != nil {
			return err
		}
	}
	return nil
}
func (c *fakeConsumer) AckWithTxn(m pulsar.Message, _ pulsar.Transaction) error { return c.Ack(m) }
func (c *fakeConsumer) AckCumulative(m pulsar.Message) error                    { return c.AckIDCumulative(m.ID()) }
func (c *fakeConsumer) AckIDCumulative(id pulsar.MessageID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cumErr != nil {
		return c.cumErr
	}
	c.cumul = append(c.cumul, id)
	return nil
}
func (c *fakeConsumer) ReconsumeLater(m pulsar.Message, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retried = append(c.retried, m)
}
func (c *fakeConsumer) ReconsumeLaterWithCustomProperties(m pulsar.Message, _ map[string]string, d time.Duration) {
	c.ReconsumeLater(m, d)
}
func (c *fakeConsumer) Nack(m pulsar.Message) { c.NackID(m.ID()) }
func (c *fakeConsumer) NackID(id pulsar.MessageID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nacked = append(c.nacked, id)
}
func (c *fakeConsumer) Close() {
	c.once.Do(func() {
		close(c.closeCh)
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	})
}

func (c *fakeConsumer) counts() (acked, nacked, retried, cumulative int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acked), len(c.nacked), len(c.retried), len(c.cumul)
}
