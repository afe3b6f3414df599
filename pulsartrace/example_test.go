package pulsartrace_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// One line traces a service: every producer, consumer and reader made
// through the wrapped client. Here a producer and a consumer talk through
// an in-process broker, and the consumer's span continues the producer's
// trace.
func Example() {
	srv, err := pulsartest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// A real service installs its providers once (see the provider
	// package) and may leave out WithTracerProvider; here the spans are
	// kept in memory to print them.
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	client = pulsartrace.WrapClient(client, asynctrace.WithTracerProvider(tp), pulsartrace.WithServiceURL(srv.URL())) // the one line
	defer client.Close()

	consumer, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "orders", SubscriptionName: "billing"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer consumer.Close()

	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "orders"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer producer.Close()

	// The request that sends the order.
	member, _ := baggage.NewMember("customer", "c-42")
	bag, _ := baggage.New(member)
	ctx, request := tp.Tracer("shop").Start(baggage.ContextWithBaggage(context.Background(), bag), "POST /orders")
	if _, err := producer.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("order 1")}); err != nil {
		fmt.Println(err)
		return
	}
	request.End()

	// The consumer: one message, acknowledged when the handler returns nil.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = pulsartrace.Handle(ctx, consumer, func(ctx context.Context, msg pulsar.Message) error {
		fmt.Printf("processing %q for customer %s, same trace: %v\n", msg.Payload(),
			baggage.FromContext(ctx).Member("customer").Value(),
			trace.SpanContextFromContext(ctx).TraceID() == request.SpanContext().TraceID())
		cancel()
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, s := range spans.Ended() {
		fmt.Printf("%s (%s)\n", s.Name(), s.SpanKind())
	}
	// Output:
	// processing "order 1" for customer c-42, same trace: true
	// send orders (producer)
	// POST /orders (internal)
	// process orders (consumer)
}

// Receive and settle by hand; the message carries its span's context.
func ExampleContextFromMessage() {
	srv, err := pulsartest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	raw, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "orders", SubscriptionName: "billing"})
	if err != nil {
		fmt.Println(err)
		return
	}
	consumer := pulsartrace.WrapConsumer(raw) // global providers
	defer consumer.Close()
	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "orders"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer producer.Close()
	if _, err := producer.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("order 1")}); err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := consumer.Receive(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	process := func(ctx context.Context, payload []byte) error {
		// Spans started from ctx, and messages sent with it through a
		// wrapped producer, join the message's trace.
		fmt.Printf("processing %q\n", payload)
		return nil
	}
	if err := process(pulsartrace.ContextFromMessage(msg), msg.Payload()); err != nil {
		consumer.Nack(msg)
		return
	}
	if err := consumer.Ack(msg); err != nil {
		fmt.Println(err)
	}
	// Output:
	// processing "order 1"
}

// Wrapping a producer is one line; the context of the send span travels in
// the message's properties, and the caller's map is left as it was.
func ExampleWrapProducer() {
	srv, err := pulsartest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()

	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "orders"})
	if err != nil {
		fmt.Println(err)
		return
	}
	producer = pulsartrace.WrapProducer(producer,
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithPropagators(propagation.TraceContext{}),
		pulsartrace.WithServiceURL(srv.URL()))
	defer producer.Close()

	ctx, span := tp.Tracer("shop").Start(context.Background(), "POST /orders")
	props := map[string]string{"order": "42"}
	if _, err := producer.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("order 42"), Properties: props}); err != nil {
		fmt.Println(err)
		return
	}
	span.End()

	stored := srv.Messages("orders")[0].Properties
	fmt.Println("caller's properties:", props)
	fmt.Println("stored order:", stored["order"])
	fmt.Println("stored traceparent continues the request's trace:",
		strings.Contains(stored["traceparent"], span.SpanContext().TraceID().String()))
	// Output:
	// caller's properties: map[order:42]
	// stored order: 42
	// stored traceparent continues the request's trace: true
}

// A reader's messages continue their producers' traces too. A reader
// settles nothing, so each message's span ends when the reader moves on:
// at the next Next, at Seek or SeekByTime, or at Close.
func ExampleWrapReader() {
	srv, err := pulsartest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "audit"})
	if err != nil {
		fmt.Println(err)
		return
	}
	producer = pulsartrace.WrapProducer(producer, asynctrace.WithTracerProvider(tp))
	defer producer.Close()
	ctx, request := tp.Tracer("shop").Start(context.Background(), "POST /orders")
	for _, entry := range []string{"order created", "order paid"} {
		if _, err := producer.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(entry)}); err != nil {
			fmt.Println(err)
			return
		}
	}
	request.End()

	raw, err := client.CreateReader(pulsar.ReaderOptions{Topic: "audit", StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		fmt.Println(err)
		return
	}
	reader := pulsartrace.WrapReader(raw, asynctrace.WithTracerProvider(tp))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		msg, err := reader.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		mctx := pulsartrace.ContextFromMessage(msg)
		fmt.Printf("%s, in the request's trace: %v\n", msg.Payload(),
			trace.SpanContextFromContext(mctx).TraceID() == request.SpanContext().TraceID())
	}
	reader.Close()

	processed := 0
	for _, s := range spans.Ended() {
		if s.Name() == "process audit" {
			processed++
		}
	}
	fmt.Println("process spans ended:", processed)
	// Output:
	// order created, in the request's trace: true
	// order paid, in the request's trace: true
	// process spans ended: 2
}
