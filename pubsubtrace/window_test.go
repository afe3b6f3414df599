package pubsubtrace_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// holdReactor fails the publishes of ordering key "slow" with a retryable
// error until released, so that the client keeps retrying them while other
// publishes complete.
type holdReactor struct{ released atomic.Bool }

func (r *holdReactor) React(req any) (bool, any, error) {
	pr, ok := req.(*pubsubpb.PublishRequest)
	if !ok || r.released.Load() || len(pr.Messages) == 0 || pr.Messages[0].OrderingKey != "slow" {
		return false, nil, nil
	}
	return true, nil, status.Error(codes.Unavailable, "held")
}

// A publish that completes while more results than the watcher waits on at
// once are outstanding, older ones among them still in flight, has its span
// ended promptly, not when an older publish completes.
func TestPublishSpanEndsBehindManyOutstanding(t *testing.T) {
	// 256 fill the watched window exactly; 300 go past it.
	for _, held := range []int{256, 300} {
		t.Run(fmt.Sprint(held), func(t *testing.T) { publishBehindHeld(t, held) })
	}
}

func publishBehindHeld(t *testing.T, held int) {
	hold := &holdReactor{}
	srv := pstest.NewServer(pstest.ServerReactorOption{FuncName: "Publish", Reactor: hold})
	t.Cleanup(func() { _ = srv.Close() })
	f := &fake{srv: srv}
	f.client = f.newClient(t, nil)
	ctx := context.Background()
	if _, err := f.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName}); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	tel := telemetrytest.New(t)
	raw := f.publisher()
	raw.EnableMessageOrdering = true
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)

	slow := make([]*pubsub.PublishResult, held)
	for i := range slow {
		slow[i] = pub.Publish(ctx, &pubsub.Message{Data: []byte{byte(i)}, OrderingKey: "slow"})
	}
	// Let the watcher take in the held publishes before the next one.
	time.Sleep(50 * time.Millisecond)
	fast := pub.Publish(ctx, &pubsub.Message{Data: []byte("fast"), OrderingKey: "fast"})
	select {
	case <-fast.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the unheld publish did not complete")
	}
	ready := time.Now()
	if _, err := fast.Get(ctx); err != nil {
		t.Fatalf("unheld publish: %v", err)
	}
	deadline := ready.Add(3 * time.Second)
	for len(tel.Ended("send "+topicID)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ended := tel.Ended("send " + topicID)
	if len(ended) != 1 {
		t.Errorf("%d send spans ended after the unheld publish completed, want 1", len(ended))
	} else if late := ended[0].EndTime().Sub(ready); late > time.Second {
		t.Errorf("send span ended %v after its publish completed", late)
	}
	for _, r := range slow {
		select {
		case <-r.Ready():
			t.Fatal("a held publish completed")
		default:
		}
	}

	hold.released.Store(true)
	stopped := make(chan struct{})
	go func() { pub.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("Stop did not return")
	}
	if n := len(tel.Ended("send " + topicID)); n != held+1 {
		t.Fatalf("%d send spans ended after Stop, want %d", n, held+1)
	}
}
