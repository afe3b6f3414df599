// Command watermill publishes one message through a traced Watermill
// publisher in a service called orders, and lets a Watermill router in a
// service called warehouse handle it with the tracing middleware: the first
// handler returns a new message, which the router publishes through the
// tracing publisher decorator, and a second handler consumes it. Then it
// prints the trace, one for all five spans:
//
//	place order                         orders     internal
//	`- send orders.placed               orders     producer
//	   `- process orders.placed         warehouse  consumer  (handler reserve-stock)
//	      `- send stock.reserved        warehouse  producer
//	         `- process stock.reserved  warehouse  consumer  (handler ship)
//
// Messages travel over a GoChannel with PreserveContext off, so the trace
// context crosses in the message metadata exactly as it would over Kafka,
// Redis Streams or AMQP.
//
//	cd examples && go run ./watermill
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/tracecheck"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

const (
	placedTopic   = "orders.placed"
	reservedTopic = "stock.reserved"
)

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "watermill:", err)
		os.Exit(1)
	}
}

// run sends one order through the router, prints what happened and returns
// the spans.
func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	services := newServices()
	if err := exchange(ctx, services, out); err != nil {
		_, _ = services.finish(io.Discard)
		return nil, err
	}
	return services.finish(out)
}

func exchange(ctx context.Context, services *services, out io.Writer) error {
	orders, err := services.start(ctx, "orders")
	if err != nil {
		return err
	}
	warehouse, err := services.start(ctx, "warehouse")
	if err != nil {
		return err
	}
	bus := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer bus.Close()

	// warehouse: a router with the tracing middleware (first, so that every
	// other middleware runs inside the span) and the publisher decorator for
	// the messages handlers return.
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	router.AddMiddleware(watermilltrace.NewMiddleware(warehouse.Options()...))
	router.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(warehouse.Options()...))
	router.AddHandler("reserve-stock", placedTopic, bus, reservedTopic, bus, func(msg *message.Message) ([]*message.Message, error) {
		// The returned message continues the trace of msg.
		return []*message.Message{message.NewMessage(watermill.NewUUID(), []byte(`{"order":1,"reserved":true}`))}, nil
	})
	shipped := make(chan trace.SpanContext, 1)
	router.AddConsumerHandler("ship", reservedTopic, bus, func(msg *message.Message) error {
		shipped <- trace.SpanContextFromContext(msg.Context())
		return nil
	})
	ran := make(chan error, 1)
	go func() { ran <- router.Run(context.Background()) }()
	defer func() {
		_ = router.Close()
		<-ran
	}()
	select {
	case <-router.Running():
	case err := <-ran:
		return err
	}

	// orders: a traced publisher.
	publisher := watermilltrace.WrapPublisher(bus, orders.Options()...)
	sendCtx, work := orders.TracerProvider().Tracer("orders").Start(ctx, "place order")
	err = publisher.Publish(placedTopic, message.NewMessageWithContext(sendCtx, watermill.NewUUID(), []byte(`{"order":1}`)))
	work.End()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "orders published to %s in trace %s\n", placedTopic, work.SpanContext().TraceID())

	select {
	case sc := <-shipped:
		fmt.Fprintf(out, "warehouse handled %s in trace %s (same trace: %t)\n",
			reservedTopic, sc.TraceID(), sc.TraceID() == work.SpanContext().TraceID())
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no message reached the %s handler within 10 s", reservedTopic)
	}
	return nil
}
