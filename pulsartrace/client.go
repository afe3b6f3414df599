package pulsartrace

import (
	"sync"

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

	mu sync.Mutex
	// open are the consumers and readers made through the client and not
	// closed yet: Close closes them first, so that the spans of their
	// unsettled messages end instead of staying open forever.
	open   map[interface{ Close() }]struct{}
	closed bool
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
// Close closes the consumers and readers made through the client (ending
// the spans of their unsettled messages as abandoned), then the client.
// Table views, transactions and TopicPartitions pass through. Wrapping an
// already wrapped client returns it unchanged. It panics if c is nil.
func WrapClient(c pulsar.Client, opts ...asynctrace.Option) pulsar.Client {
	if c == nil {
		panic("pulsartrace.WrapClient: client is nil")
	}
	cfg, s := resolve("WrapClient", opts)
	if w, ok := c.(*client); ok {
		return w
	}
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
	tc := newConsumer(cons, c.in, c.s)
	c.track(tc, &tc.release)
	return tc, nil
}

// CreateReader creates a reader through the wrapped client and traces it.
func (c *client) CreateReader(opts pulsar.ReaderOptions) (pulsar.Reader, error) {
	r, err := c.Client.CreateReader(opts)
	if err != nil || r == nil {
		return r, err
	}
	tr := newReader(r, c.in)
	c.track(tr, &tr.release)
	return tr, nil
}

// track remembers x until x's Close calls the function it stores in
// release, which is set before x is shared. What is made while or after the
// client closes is closed at once.
func (c *client) track(x interface{ Close() }, release *func()) {
	*release = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.open, x)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		x.Close()
		return
	}
	if c.open == nil {
		c.open = make(map[interface{ Close() }]struct{})
	}
	c.open[x] = struct{}{}
	c.mu.Unlock()
}

// Close closes what the client made that is still open, then the client.
func (c *client) Close() {
	c.mu.Lock()
	c.closed = true
	open := make([]interface{ Close() }, 0, len(c.open))
	for x := range c.open {
		open = append(open, x)
	}
	c.mu.Unlock()
	for _, x := range open {
		x.Close()
	}
	c.Client.Close()
}
