// Command pulsar sends one message through a traced Pulsar producer in a
// service called checkout and receives it with a traced consumer in a
// service called billing, then prints the trace the two share:
//
//	place order      checkout  internal
//	`- send orders   checkout  producer
//	   `- process orders  billing  consumer
//
// It runs an in-process broker (pulsartrace/pulsartest) unless PULSAR_URL
// names a real one, and exports the spans over OTLP too when
// OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
//	cd examples && go run ./pulsar
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
	"github.com/asynctrace/asynctrace/tracecheck"
)

const topic = "orders"

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pulsar:", err)
		os.Exit(1)
	}
}

// run exchanges one message, prints what happened and returns the spans.
func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	url := os.Getenv("PULSAR_URL")
	if url == "" {
		srv, err := pulsartest.Start()
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		url = srv.URL()
	}
	services := newServices()
	if err := exchange(ctx, services, url, out); err != nil {
		_, _ = services.finish(io.Discard)
		return nil, err
	}
	return services.finish(out)
}

func exchange(ctx context.Context, services *services, url string, out io.Writer) error {
	checkout, err := services.start(ctx, "checkout")
	if err != nil {
		return err
	}
	billing, err := services.start(ctx, "billing")
	if err != nil {
		return err
	}

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: url, Logger: pulsarlog.DefaultNopLogger()})
	if err != nil {
		return err
	}
	defer client.Close()

	// billing: the consumer, wrapped so that each message gets a process span.
	raw, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic:                       topic,
		SubscriptionName:            "billing",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		return err
	}
	consumer := pulsartrace.WrapConsumer(raw, billing.Options(pulsartrace.WithServiceURL(url))...)
	defer consumer.Close()

	// checkout: the producer, wrapped so that each send gets a span and
	// carries its context in the message properties.
	p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, SendTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	producer := pulsartrace.WrapProducer(p, checkout.Options(pulsartrace.WithServiceURL(url))...)
	defer producer.Close()

	sendCtx, work := checkout.TracerProvider().Tracer("checkout").Start(ctx, "place order")
	id, err := producer.Send(sendCtx, &pulsar.ProducerMessage{Payload: []byte(`{"order":1}`)})
	work.End()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "checkout sent message %s in trace %s\n", id, work.SpanContext().TraceID())

	recvCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := consumer.Receive(recvCtx)
	if err != nil {
		return err
	}
	processed := trace.SpanContextFromContext(pulsartrace.ContextFromMessage(msg))
	fmt.Fprintf(out, "billing received %s in trace %s (same trace: %t)\n",
		msg.Payload(), processed.TraceID(), processed.TraceID() == work.SpanContext().TraceID())
	return consumer.Ack(msg) // ends the process span
}
