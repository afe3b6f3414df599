package watermilltrace_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// A router whose first handler returns a message for the second: one trace
// from the publish in the producer's span to the second handler. The trace
// context travels as W3C Trace Context, since no propagator is installed.
func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	// A program usually passes no options and gets the otel globals; here
	// the spans go to a recorder, to be printed.
	opts := []asynctrace.Option{asynctrace.WithTracerProvider(tp)}

	pubSub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer func() { _ = pubSub.Close() }()
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The two lines that trace a router.
	router.AddMiddleware(watermilltrace.NewMiddleware(opts...))
	router.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(opts...))

	router.AddHandler("bill", "orders", pubSub, "invoices", pubSub,
		func(msg *message.Message) ([]*message.Message, error) {
			return []*message.Message{message.NewMessage(watermill.NewUUID(), []byte("invoice"))}, nil
		})
	done := make(chan struct{})
	router.AddConsumerHandler("archive", "invoices", pubSub, func(msg *message.Message) error {
		close(done)
		return nil
	})
	go func() { _ = router.Run(context.Background()) }()
	<-router.Running()
	defer func() { _ = router.Close() }()

	// Outside the router, wrap the publisher.
	pub := watermilltrace.WrapPublisher(pubSub, opts...)
	ctx, span := tp.Tracer("shop").Start(context.Background(), "POST /orders")
	if err := pub.Publish("orders", message.NewMessageWithContext(ctx, watermill.NewUUID(), []byte("order"))); err != nil {
		fmt.Println(err)
		return
	}
	span.End()

	<-done
	waitForSpans(rec, 5)
	printTree(rec.Ended())
	// Output:
	// POST /orders
	//   send orders (producer)
	//     process orders (consumer) handler=bill
	//       send invoices (producer)
	//         process invoices (consumer) handler=archive
}

// A consumer reading a subscriber's channel without a router: the message's
// context carries the process span until the message is acked.
func ExampleWrapSubscriber() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	opts := []asynctrace.Option{asynctrace.WithTracerProvider(tp)}

	pubSub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	sub := watermilltrace.WrapSubscriber(pubSub, opts...)
	defer func() { _ = sub.Close() }()
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		fmt.Println(err)
		return
	}

	pub := watermilltrace.WrapPublisher(pubSub, opts...)
	if err := pub.Publish("jobs", message.NewMessage(watermill.NewUUID(), []byte("job"))); err != nil {
		fmt.Println(err)
		return
	}
	msg := <-msgs
	_, work := tp.Tracer("worker").Start(msg.Context(), "run job")
	work.End()
	msg.Ack()

	waitForSpans(rec, 3)
	printTree(rec.Ended())
	// Output:
	// send jobs (producer)
	//   process jobs (consumer) settlement=ack
	//     run job
}

// Publishing outside a router, in the span of the request that publishes:
// the message gets a send span of its own, and its metadata carries that
// span's context to whoever consumes it.
func ExampleWrapPublisher() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	pubSub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1}, watermill.NopLogger{})
	defer func() { _ = pubSub.Close() }()
	received, err := pubSub.Subscribe(context.Background(), "orders")
	if err != nil {
		fmt.Println(err)
		return
	}

	pub := watermilltrace.WrapPublisher(pubSub, asynctrace.WithTracerProvider(tp))
	ctx, span := tp.Tracer("shop").Start(context.Background(), "POST /orders")
	if err := pub.Publish("orders", message.NewMessageWithContext(ctx, watermill.NewUUID(), []byte("order"))); err != nil {
		fmt.Println(err)
		return
	}
	span.End()

	// An untraced consumer sees the trace context in the metadata.
	msg := <-received
	msg.Ack()
	waitForSpans(rec, 2)
	for _, s := range rec.Ended() {
		if s.Name() == "send orders" {
			fmt.Println("traceparent names the send span:", strings.Contains(msg.Metadata.Get("traceparent"), s.SpanContext().SpanID().String()))
		}
	}
	printTree(rec.Ended())
	// Output:
	// traceparent names the send span: true
	// POST /orders
	//   send orders (producer)
}

func waitForSpans(rec *tracetest.SpanRecorder, n int) {
	for deadline := time.Now().Add(10 * time.Second); len(rec.Ended()) < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// printTree prints spans indented under their parents.
func printTree(spans []sdktrace.ReadOnlySpan) {
	children := map[string][]sdktrace.ReadOnlySpan{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID().String()] = true
	}
	for _, s := range spans {
		parent := s.Parent().SpanID().String()
		if !ids[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], s)
	}
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		kids := children[parent]
		slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
		for _, s := range kids {
			line := indent + s.Name()
			if k := s.SpanKind().String(); k != "internal" {
				line += " (" + k + ")"
			}
			for _, kv := range s.Attributes() {
				switch kv.Key {
				case watermilltrace.HandlerNameKey:
					line += " handler=" + kv.Value.AsString()
				case "asynctrace.message.settlement":
					line += " settlement=" + kv.Value.AsString()
				}
			}
			fmt.Println(line)
			walk(s.SpanContext().SpanID().String(), indent+"  ")
		}
	}
	walk("", "")
}

// A Watermill subscriber does not say which consumer group it reads in:
// name it, and the process spans and metrics carry
// messaging.consumer.group.name.
func ExampleWithConsumerGroup() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	pubSub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	sub := watermilltrace.WrapSubscriber(pubSub,
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMessagingSystem("redis"),
		watermilltrace.WithConsumerGroup("billing"),
	)
	defer func() { _ = sub.Close() }()
	msgs, err := sub.Subscribe(context.Background(), "jobs")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := pubSub.Publish("jobs", message.NewMessage(watermill.NewUUID(), nil)); err != nil {
		fmt.Println(err)
		return
	}
	(<-msgs).Ack()

	waitForSpans(rec, 1)
	for _, kv := range rec.Ended()[0].Attributes() {
		if kv.Key == "messaging.consumer.group.name" {
			fmt.Println(kv.Key, "=", kv.Value.AsString())
		}
	}
	// Output:
	// messaging.consumer.group.name = billing
}
