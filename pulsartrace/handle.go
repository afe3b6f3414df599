package pulsartrace

import (
	"context"
	"errors"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Handler processes one message. ctx carries the message's process span
// and the baggage the producer sent.
type Handler func(ctx context.Context, msg pulsar.Message) error

// Handle receives messages from c one at a time and runs handler for each
// with the context of its process span. A nil error acknowledges the
// message (settlement "ack"); an error nacks it, so the broker redelivers
// it, and is recorded on the span (settlement "nack"). A handler that
// panics has its message nacked and its span ended with the panic recorded
// before the panic goes on.
//
// c is best a consumer from [WrapConsumer] or a [WrapClient] client, whose
// options then apply; any other consumer is traced with the default
// options for the duration of the call.
//
// Handle returns nil when ctx is done or c is closed, and the error of the
// consumer otherwise. The handler's ctx is done when ctx is. To process
// messages concurrently, run Handle in several goroutines on one consumer.
// It panics if c or handler is nil.
func Handle(ctx context.Context, c pulsar.Consumer, handler Handler) error {
	if c == nil {
		panic("pulsartrace.Handle: consumer is nil")
	}
	if handler == nil {
		panic("pulsartrace.Handle: handler is nil")
	}
	tc, ok := c.(*consumer)
	if !ok {
		cfg, s := resolve("Handle", nil)
		tc = newConsumer(c, newInstrumenter(cfg), s)
	}
	for {
		pctx, msg, err := tc.receiveContext(ctx)
		if err != nil {
			if ctx.Err() != nil || isConsumerClosed(err) || tc.isClosed() {
				return nil
			}
			return err
		}
		tc.handleOne(pctx, msg, handler)
	}
}

func (c *consumer) handleOne(ctx context.Context, msg pulsar.Message, handler Handler) {
	var err error
	messaging.Guard(func() { err = handler(ctx, msg) }, func(abort error) { c.nackWithError(msg, abort) })
	if err != nil {
		c.nackWithError(msg, err)
		return
	}
	_ = c.Ack(msg) // an ack error is recorded on the span
}

// nackWithError nacks msg and ends its span with err, the handler's.
func (c *consumer) nackWithError(msg pulsar.Message, err error) {
	start := c.in.Now(context.Background())
	c.Consumer.Nack(UnwrapMessage(msg))
	c.settle(msg.ID(), msg.Topic(), messaging.SettleNack, start, nil, err)
}

func isConsumerClosed(err error) bool {
	var perr *pulsar.Error
	return errors.As(err, &perr) && perr.Result() == pulsar.ConsumerClosed
}

// isClosed reports whether Close was called on c.
func (c *consumer) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// openCount is the number of messages handed out whose spans are open.
func (c *consumer) openCount() int { return c.open.len() }
