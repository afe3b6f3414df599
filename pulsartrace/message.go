package pulsartrace

import (
	"context"

	"github.com/apache/pulsar-client-go/pulsar"
)

// tracedMessage is a received message as a traced consumer or reader hands
// it out: the client's message, whose methods it has, plus the open
// delivery that holds its process span. The client's consumer uses messages
// only through the pulsar.Message methods, so a tracedMessage may also be
// given to the unwrapped consumer (its span then ends on Close, not on that
// settlement).
type tracedMessage struct {
	pulsar.Message
	dl delivery
}

// ContextFromMessage returns the context of the process span of a message
// received through a traced consumer (from Receive or Chan, in which case
// the pulsar.ConsumerMessage itself may be passed) or read through a traced
// reader. Pass it to the code that processes the message, so that its
// spans, and messages it sends through a wrapped producer, join the
// producer's trace. For any other message it returns context.Background().
func ContextFromMessage(msg pulsar.Message) context.Context {
	switch m := msg.(type) {
	case *tracedMessage:
		return m.dl.proc.Context()
	case pulsar.ConsumerMessage:
		return ContextFromMessage(m.Message)
	case *pulsar.ConsumerMessage:
		if m != nil {
			return ContextFromMessage(m.Message)
		}
	}
	return context.Background()
}

// UnwrapMessage returns the client's own message inside a message handed
// out by a traced consumer or reader, or msg itself. Code that type-asserts
// messages to the client's types needs it; the traced consumer's settlement
// methods unwrap on their own.
func UnwrapMessage(msg pulsar.Message) pulsar.Message {
	switch m := msg.(type) {
	case *tracedMessage:
		return m.Message
	case pulsar.ConsumerMessage:
		return UnwrapMessage(m.Message)
	case *pulsar.ConsumerMessage:
		if m != nil {
			return UnwrapMessage(m.Message)
		}
	}
	return msg
}
