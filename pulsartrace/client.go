package pulsartrace

import (
	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// client is a pulsar.Client whose producers, consumers and readers are
// traced.
type client struct {
	pulsar.Client
	in *messaging.Instrumenter
	s  settings
}

var _ pulsar.Client = (*client)(nil)

// WrapClient returns a pulsar.Client whose producers, consumers and readers
// are all traced, as [WrapProducer], [WrapConsumer] and [WrapReader] would
// trace them, with opts: one line for a whole service.
//
//	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: url})
//	...
//	client = pulsartrace.WrapClient(client, pulsartrace.WithServiceURL(url))
//
// Table views, transactions and TopicPartitions pass through. Wrapping an
// already wrapped client returns it unchanged. It panics if c is nil.
func WrapClient(c pulsar.Client, opts ...asynctrace.Option) pulsar.Client {
	if c == nil {
		panic("pulsartrace.WrapClient: client is nil")
	}
	if w, ok := c.(*client); ok {
		return w
	}
	cfg, s := resolve("WrapClient", opts)
	return &client{Client: c, in: newInstrumenter(cfg), s: s}
}

// CreateProducer creates a producer through the wrapped client and traces
// it.
func (c *client) CreateProducer(opts pulsar.ProducerOptions) (pulsar.Producer, error) {
	p, err := c.Client.CreateProducer(opts)
	if err != nil || p == nil {
		return p, err
	}
	return newProducer(p, c.in), nil
}

// Subscribe subscribes through the wrapped client and traces the consumer.
func (c *client) Subscribe(opts pulsar.ConsumerOptions) (pulsar.Consumer, error) {
	cons, err := c.Client.Subscribe(opts)
	if err != nil || cons == nil {
		return cons, err
	}
	return newConsumer(cons, c.in, c.s), nil
}

// CreateReader creates a reader through the wrapped client and traces it.
func (c *client) CreateReader(opts pulsar.ReaderOptions) (pulsar.Reader, error) {
	r, err := c.Client.CreateReader(opts)
	if err != nil || r == nil {
		return r, err
	}
	return newReader(r, c.in), nil
}
