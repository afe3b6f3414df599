package pubsubtrace_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// Publish with a Publisher, receive with WrapHandler: the process span
// continues the trace of the request that published the message. The
// Pub/Sub server is pstest, Google's in-process fake.
func Example() {
	ctx := context.Background()
	srv := pstest.NewServer()
	defer srv.Close()
	client, err := pubsub.NewClient(ctx, "my-project",
		option.WithEndpoint(srv.Addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	topic := "projects/my-project/topics/orders"
	subscription := "projects/my-project/subscriptions/billing"
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		log.Fatal(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: subscription, Topic: topic}); err != nil {
		log.Fatal(err)
	}

	// In a service the tracer provider is usually the global one, the
	// default; the example records spans in memory. With no propagator
	// installed, W3C Trace Context and Baggage carry the trace.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	opts := []asynctrace.Option{asynctrace.WithTracerProvider(tp)}

	pub := pubsubtrace.WrapPublisher(client.Publisher(topic), opts...)
	reqCtx, request := tp.Tracer("example").Start(ctx, "POST /orders")
	if _, err := pub.Publish(reqCtx, &pubsub.Message{Data: []byte("order 42")}).Get(reqCtx); err != nil {
		log.Fatal(err)
	}
	request.End()
	pub.Stop() // ends the spans of messages still in flight

	sub := client.Subscriber(subscription)
	recvCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = sub.Receive(recvCtx, pubsubtrace.WrapHandler(sub, func(ctx context.Context, m *pubsub.Message) {
		fmt.Printf("handled %q\n", m.Data)
		pubsubtrace.Ack(ctx, m)
		cancel()
	}, opts...))
	if err != nil {
		log.Fatal(err)
	}

	spans := rec.Ended()
	sort.Slice(spans, func(i, j int) bool { return spans[i].StartTime().Before(spans[j].StartTime()) })
	for _, s := range spans {
		fmt.Printf("%s (%s) in the request's trace: %v\n", s.Name(), s.SpanKind(), s.SpanContext().TraceID() == request.SpanContext().TraceID())
	}
	// Output:
	// handled "order 42"
	// POST /orders (internal) in the request's trace: true
	// send orders (producer) in the request's trace: true
	// process billing (consumer) in the request's trace: true
}

// A push endpoint: Pub/Sub posts each message as a JSON envelope; the
// handler runs inside a process span that continues the publisher's trace.
// This endpoint refuses bodies over 1 MiB.
func ExampleNewPushHandler() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := pubsubtrace.NewPushHandler(func(ctx context.Context, m *pubsubtrace.PushMessage) error {
		fmt.Printf("message %s: %q\n", m.ID, m.Data)
		return nil
	}, asynctrace.WithTracerProvider(tp), pubsubtrace.WithMaxPushBodyBytes(1<<20))
	srv := httptest.NewServer(h)
	defer srv.Close()

	// What Pub/Sub would post for a message published with trace context.
	body := `{
	  "message": {
	    "data": "b3JkZXIgNDI=",
	    "attributes": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	    "messageId": "2070443601311540",
	    "publishTime": "2026-11-22T10:00:00Z"
	  },
	  "subscription": "projects/my-project/subscriptions/billing-push"
	}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode)
	s := rec.Ended()[0]
	fmt.Printf("%s (%s), trace %s\n", s.Name(), s.SpanKind(), s.SpanContext().TraceID())
	// Output:
	// message 2070443601311540: "order 42"
	// status: 204
	// process billing-push (consumer), trace 4bf92f3577b34da6a3ce929d0e0e4736
}
