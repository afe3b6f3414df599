package pulsartrace_test

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// The opt-in spans of the messaging conventions: a receive span for each
// Receive and a settle span for each ack, around the process span. With
// WithLinkAfter, a message that waited in the topic for more than an hour
// would start a trace of its own, linked to its producer's.
func Example_receiveAndSettleSpans() {
	srv, err := pulsartest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	client = pulsartrace.WrapClient(client,
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithReceiveSpans(),
		asynctrace.WithSettleSpans(),
		asynctrace.WithLinkAfter(time.Hour),
	)
	defer client.Close()
	consumer, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "orders", SubscriptionName: "billing"})
	if err != nil {
		fmt.Println(err)
		return
	}
	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "orders"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if _, err := producer.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("o1")}); err != nil {
		fmt.Println(err)
		return
	}
	msg, err := consumer.Receive(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = consumer.Ack(msg)

	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == pulsartrace.AcknowledgmentTypeKey {
				fmt.Printf("%s (%s) %s=%s\n", s.Name(), s.SpanKind(), kv.Key, kv.Value.AsString())
				continue
			}
		}
		if s.Name() != "process orders" {
			fmt.Printf("%s (%s)\n", s.Name(), s.SpanKind())
		}
	}
	// Output:
	// send orders (producer)
	// receive orders (client)
	// ack orders (client)
	// process orders (consumer) messaging.pulsar.acknowledgment.type=acknowledge
}
