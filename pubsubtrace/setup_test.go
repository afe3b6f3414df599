package pubsubtrace_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

const (
	project = "proj"
	topicID = "orders"
	subID   = "orders-worker"
)

var (
	topicName = "projects/" + project + "/topics/" + topicID
	subName   = "projects/" + project + "/subscriptions/" + subID
)

// fake is a pstest server with a real client connected to it over gRPC, a
// topic and a subscription.
type fake struct {
	srv    *pstest.Server
	client *pubsub.Client
}

func newFake(tb testing.TB, cfg *pubsub.ClientConfig) *fake {
	tb.Helper()
	srv := pstest.NewServer()
	ctx := context.Background()
	f := &fake{srv: srv}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("server close: %v", err)
		}
	})
	f.client = f.newClient(tb, cfg)
	if _, err := f.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName}); err != nil {
		tb.Fatalf("create topic: %v", err)
	}
	if _, err := f.client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: subName, Topic: topicName, AckDeadlineSeconds: 10,
	}); err != nil {
		tb.Fatalf("create subscription: %v", err)
	}
	return f
}

// newClient connects another client to the server; it is closed before the
// server.
func (f *fake) newClient(tb testing.TB, cfg *pubsub.ClientConfig) *pubsub.Client {
	tb.Helper()
	if cfg == nil {
		cfg = &pubsub.ClientConfig{}
	}
	client, err := pubsub.NewClientWithConfig(context.Background(), project, cfg,
		option.WithEndpoint(f.srv.Addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled(),
	)
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	tb.Cleanup(func() {
		if err := client.Close(); err != nil {
			tb.Errorf("client close: %v", err)
		}
	})
	return client
}

// publisher returns a raw publisher that sends each message at once.
func (f *fake) publisher() *pubsub.Publisher {
	p := f.client.Publisher(topicName)
	p.PublishSettings.DelayThreshold = time.Millisecond
	return p
}

// receiveWith runs Receive on f's client until n messages were handled by
// h (wrapped by decorate, when not nil) or the wait times out, and returns
// once Receive has returned.
func (f *fake) receiveWith(tb testing.TB, n int, decorate func(func(context.Context, *pubsub.Message)) func(context.Context, *pubsub.Message), h func(context.Context, *pubsub.Message)) {
	tb.Helper()
	receiveOn(tb, f.client, n, decorate, h)
}

// receiveOn is receiveWith on the given client.
func receiveOn(tb testing.TB, client *pubsub.Client, n int, decorate func(func(context.Context, *pubsub.Message)) func(context.Context, *pubsub.Message), h func(context.Context, *pubsub.Message)) {
	tb.Helper()
	if decorate == nil {
		decorate = func(h func(context.Context, *pubsub.Message)) func(context.Context, *pubsub.Message) { return h }
	}
	ctx, cancel := context.WithTimeout(context.Background(), telemetrytest.WaitTimeout)
	defer cancel()
	var (
		mu   sync.Mutex
		seen int
	)
	sub := client.Subscriber(subName)
	err := sub.Receive(ctx, decorate(func(ctx context.Context, m *pubsub.Message) {
		h(ctx, m)
		mu.Lock()
		seen++
		if seen == n {
			cancel()
		}
		mu.Unlock()
	}))
	if err != nil {
		tb.Fatalf("receive: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen < n {
		tb.Fatalf("received %d messages, want %d", seen, n)
	}
}
