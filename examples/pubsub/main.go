// Command pubsub publishes one message to Google Cloud Pub/Sub through a
// traced publisher in a service called orders and receives it with a traced
// handler in a service called mailer, then prints the trace they share:
//
//	place order               orders  internal
//	`- send orders            orders  producer
//	   `- process orders-mailer  mailer  consumer
//
// It runs the Pub/Sub fake server pstest in process unless
// PUBSUB_EMULATOR_HOST names an emulator, and exports the spans over OTLP
// too when OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
//	cd examples && go run ./pubsub
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/asynctrace/asynctrace/pubsubtrace"
	"github.com/asynctrace/asynctrace/tracecheck"
)

const (
	project      = "asynctrace-demo"
	topicID      = "orders"
	subscription = "orders-mailer"
)

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pubsub:", err)
		os.Exit(1)
	}
}

// run publishes and receives one message, prints what happened and returns
// the spans.
func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	addr := os.Getenv("PUBSUB_EMULATOR_HOST")
	if addr == "" {
		srv := pstest.NewServerWithAddress("127.0.0.1:0")
		defer srv.Close()
		addr = srv.Addr
	}
	services := newServices()
	if err := exchange(ctx, services, addr, out); err != nil {
		_, _ = services.finish(io.Discard)
		return nil, err
	}
	return services.finish(out)
}

func exchange(ctx context.Context, services *services, addr string, out io.Writer) error {
	orders, err := services.start(ctx, "orders")
	if err != nil {
		return err
	}
	mailer, err := services.start(ctx, "mailer")
	if err != nil {
		return err
	}
	client, err := pubsub.NewClient(ctx, project,
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled(),
	)
	if err != nil {
		return err
	}
	defer client.Close()
	topicName := "projects/" + project + "/topics/" + topicID
	subName := "projects/" + project + "/subscriptions/" + subscription
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName}); err != nil {
		return err
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: subName, Topic: topicName}); err != nil {
		return err
	}

	// orders: a traced publisher. Stop it, not the wrapped one, so that every
	// send span ends.
	publisher := pubsubtrace.WrapPublisher(client.Publisher(topicName), orders.Options()...)
	sendCtx, work := orders.TracerProvider().Tracer("orders").Start(ctx, "place order")
	id, err := publisher.Publish(sendCtx, &pubsub.Message{Data: []byte(`{"order":1}`)}).Get(sendCtx)
	work.End()
	publisher.Stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "orders published message %s in trace %s\n", id, work.SpanContext().TraceID())

	// mailer: a traced handler; Ack through pubsubtrace records the
	// settlement on the process span.
	recvCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var received trace.SpanContext
	sub := client.Subscriber(subName)
	err = sub.Receive(recvCtx, pubsubtrace.WrapHandler(sub, func(ctx context.Context, m *pubsub.Message) {
		received = trace.SpanContextFromContext(ctx)
		pubsubtrace.Ack(ctx, m)
		cancel()
	}, mailer.Options()...))
	if err != nil {
		return err
	}
	if !received.IsValid() {
		return fmt.Errorf("no message received within 10 s")
	}
	fmt.Fprintf(out, "mailer received it in trace %s (same trace: %t)\n",
		received.TraceID(), received.TraceID() == work.SpanContext().TraceID())
	return nil
}
