package pulsartrace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

// Handler processes one message. ctx carries the message's process span
// and the baggage the producer sent.
type Handler func(ctx context.Context, msg pulsar.Message) error

// errNoHandler is returned by Handle when called without a consumer or a
// handler.
var errNoHandler = errors.New("pulsartrace: Handle needs a consumer and a handler")

// errHandlerExited ends the span of a message whose handler called
// runtime.Goexit instead of returning.
var errHandlerExited = errors.New("pulsartrace: handler exited without returning")

// Handle receives messages from c one at a time and runs handler for each
// with the context of its process span. A nil error acknowledges the
// message (settlement "ack"); an error nacks it, so the broker redelivers
// it, and is recorded on the span (settlement "nack"). A handler that
// panics has its message nacked and its span ended with the panic recorded
// before the panic goes on.
//
// Handle returns nil when ctx is done or c is closed, and the error of the
// consumer otherwise. The handler's ctx is done when ctx is. To process
// messages concurrently, run Handle in several goroutines on one Consumer.
func Handle(ctx context.Context, c *Consumer, handler Handler) error {
	if c == nil || handler == nil {
		return errNoHandler
	}
	for {
		pctx, msg, err := c.ReceiveContext(ctx)
		if err != nil {
			if ctx.Err() != nil || isConsumerClosed(err) || c.isClosed() {
				return nil
			}
			return err
		}
		c.handleOne(pctx, msg, handler)
	}
}

func (c *Consumer) handleOne(ctx context.Context, msg pulsar.Message, handler Handler) {
	finished := false
	defer func() {
		if finished {
			return
		}
		r := recover()
		if r == nil {
			// runtime.Goexit: the goroutine goes on ending; re-panicking
			// would turn that into a panic.
			c.nackWithError(msg, errHandlerExited)
			return
		}
		c.nackWithError(msg, fmt.Errorf("pulsartrace: handler panicked: %v", r))
		panic(r)
	}()
	err := handler(ctx, msg)
	finished = true
	if err != nil {
		c.nackWithError(msg, err)
		return
	}
	_ = c.Ack(msg) // an ack error is recorded on the span
}

// nackWithError nacks msg and ends its span with err, the handler's.
func (c *Consumer) nackWithError(msg pulsar.Message, err error) {
	start := time.Now()
	c.Consumer.Nack(UnwrapMessage(msg))
	c.settle(msg.ID(), msg.Topic(), messaging.SettleNack, start, nil, err)
}

func isConsumerClosed(err error) bool {
	var perr *pulsar.Error
	return errors.As(err, &perr) && perr.Result() == pulsar.ConsumerClosed
}

// isClosed reports whether Close was called on c.
func (c *Consumer) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
