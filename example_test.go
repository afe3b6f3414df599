package asynctrace_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// The same options configure every messaging adapter. Here a Watermill
// publisher over Redis is told the broker's name and where to send spans.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	opts := []asynctrace.Option{
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithPropagators(propagation.TraceContext{}),
		asynctrace.WithMessagingSystem("redis"),
		asynctrace.WithSpanAttributes(attribute.String("team", "checkout")),
	}
	bus := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer func() { _ = bus.Close() }()
	publisher := watermilltrace.WrapPublisher(bus, opts...)

	msg := message.NewMessage("order-42", []byte(`{"total":12}`))
	if err := publisher.Publish("orders", msg); err != nil {
		fmt.Println(err)
		return
	}

	span := spans.Ended()[0]
	fmt.Println(span.Name(), span.SpanKind())
	for _, kv := range span.Attributes() {
		switch kv.Key {
		case "messaging.system", "team", "messaging.message.id":
			fmt.Printf("%s=%s\n", kv.Key, kv.Value.String())
		}
	}
	fmt.Println("traceparent sent:", msg.Metadata.Get("traceparent") != "")
	// Output:
	// send orders producer
	// messaging.system=redis
	// team=checkout
	// messaging.message.id=order-42
	// traceparent sent: true
}

// Settle spans mark each settlement a wrapped consumer sees. Here a
// Watermill subscriber read without a router acks a message: the ack gets
// a CLIENT span, a child of the message's process span.
func ExampleWithSettleSpans() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	bus := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	sub := watermilltrace.WrapSubscriber(bus, asynctrace.WithTracerProvider(tp), asynctrace.WithSettleSpans())
	defer func() { _ = sub.Close() }()
	msgs, err := sub.Subscribe(context.Background(), "orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := bus.Publish("orders", message.NewMessage("order-42", nil)); err != nil {
		fmt.Println(err)
		return
	}
	(<-msgs).Ack()
	// The subscriber ends the spans as soon as it sees the ack.
	for deadline := time.Now().Add(10 * time.Second); len(spans.Ended()) < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}

	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	// Output:
	// ack orders client
	// process orders consumer
}
