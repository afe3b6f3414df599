package pubsubtrace_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// point is one data point of a counter or histogram, keyed by its attributes.
type point struct {
	count uint64  // histogram count, or counter value
	sum   float64 // histogram sum
}

func collect(t *testing.T, tel *telemetrytest.Telemetry) map[string]map[attribute.Distinct]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	out := map[string]map[attribute.Distinct]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/asynctrace/asynctrace/pubsubtrace" {
			continue
		}
		for _, m := range sm.Metrics {
			pts := map[attribute.Distinct]point{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					pts[dp.Attributes.Equivalent()] = point{count: uint64(dp.Value)}
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					pts[dp.Attributes.Equivalent()] = point{count: dp.Count, sum: dp.Sum}
				}
			default:
				t.Fatalf("%s has unexpected data %T", m.Name, m.Data)
			}
			out[m.Name] = pts
		}
	}
	return out
}

func set(kv ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kv...)
	return s.Equivalent()
}

func sendAttrs(extra ...attribute.KeyValue) []attribute.KeyValue {
	return append([]attribute.KeyValue{
		semconv.MessagingSystemGCPPubSub,
		semconv.MessagingDestinationName(topicID),
		semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationName("send"),
	}, extra...)
}

func consumerAttrs(extra ...attribute.KeyValue) []attribute.KeyValue {
	return append([]attribute.KeyValue{
		semconv.MessagingSystemGCPPubSub,
		semconv.MessagingDestinationName(subID),
		semconv.MessagingDestinationSubscriptionName(subID),
	}, extra...)
}

func wantPoints(t *testing.T, got map[string]map[attribute.Distinct]point, metric string, want map[attribute.Distinct]uint64) map[attribute.Distinct]point {
	t.Helper()
	pts := got[metric]
	if len(pts) != len(want) {
		t.Fatalf("%s has %d attribute sets, want %d: %v", metric, len(pts), len(want), pts)
	}
	for k, n := range want {
		p, ok := pts[k]
		if !ok {
			t.Fatalf("%s has no point for %v", metric, k)
		}
		if p.count != n {
			t.Fatalf("%s count %d, want %d", metric, p.count, n)
		}
	}
	return pts
}

func TestPublishMetrics(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	raw := f.publisher()
	const delay = 100 * time.Millisecond
	raw.PublishSettings.DelayThreshold = delay
	pub := pubsubtrace.WrapPublisher(raw, tel.Options()...)
	var results []*pubsub.PublishResult
	for range 3 {
		results = append(results, pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x")}))
	}
	failed := pub.Publish(context.Background(), &pubsub.Message{Data: []byte("x"), OrderingKey: "no-ordering"})
	_, failure := failed.Get(context.Background())
	if failure == nil {
		t.Fatal("publish did not fail")
	}
	for _, r := range results {
		<-r.Ready() // Stop would flush at once
	}
	pub.Stop()

	ok := set(sendAttrs()...)
	bad := set(sendAttrs(semconv.ErrorType(failure))...)
	got := collect(t, tel)
	wantPoints(t, got, "messaging.client.sent.messages", map[attribute.Distinct]uint64{ok: 3, bad: 1})
	dur := wantPoints(t, got, "messaging.client.operation.duration", map[attribute.Distinct]uint64{ok: 3, bad: 1})
	// The duration covers the publish up to the server's answer, which
	// the client holds back for the delay threshold.
	if s := dur[ok].sum; s < 3*delay.Seconds() || s > 3*10 {
		t.Fatalf("sum of 3 publish durations = %vs, want at least %v each", s, delay)
	}
	if s := dur[bad].sum; s <= 0 || s > delay.Seconds() {
		t.Fatalf("duration of an at once failed publish = %vs", s)
	}
}

func TestReceiveMetrics(t *testing.T) {
	f := newFake(t, nil)
	tel := telemetrytest.New(t)
	for range 2 {
		f.srv.Publish(topicName, []byte("x"), nil)
	}
	const work = 20 * time.Millisecond
	f.receiveWith(t, 2, wrapWith(f, tel.Options()...), func(ctx context.Context, m *pubsub.Message) {
		time.Sleep(work)
		pubsubtrace.Ack(ctx, m)
	})
	got := collect(t, tel)
	wantPoints(t, got, "messaging.client.consumed.messages", map[attribute.Distinct]uint64{
		set(consumerAttrs(semconv.MessagingOperationName("process"))...): 2,
	})
	proc := set(consumerAttrs(semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("process"))...)
	pd := wantPoints(t, got, "messaging.process.duration", map[attribute.Distinct]uint64{proc: 2})
	if s := pd[proc].sum; s < 2*work.Seconds() || s > 20 {
		t.Fatalf("process duration sum %vs, want at least %v each", s, work)
	}
	wantPoints(t, got, "messaging.client.operation.duration", map[attribute.Distinct]uint64{
		set(consumerAttrs(semconv.MessagingOperationTypeSettle, semconv.MessagingOperationName("ack"))...): 2,
	})
}

func TestPushMetrics(t *testing.T) {
	tel := telemetrytest.New(t)
	fail := errors.New("boom")
	h := pubsubtrace.NewPushHandler(func(_ context.Context, m *pubsubtrace.PushMessage) error {
		if m.Attributes["fail"] == "yes" {
			return fail
		}
		return nil
	}, tel.Options()...)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, attrs := range []map[string]string{nil, nil, {"fail": "yes"}} {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(pushEnvelope(attrs)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := collect(t, tel)
	wantPoints(t, got, "messaging.client.consumed.messages", map[attribute.Distinct]uint64{
		set(consumerAttrs(semconv.MessagingOperationName("process"))...): 3,
	})
	base := consumerAttrs(semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("process"))
	wantPoints(t, got, "messaging.process.duration", map[attribute.Distinct]uint64{
		set(base...): 2,
		set(append(base, semconv.ErrorType(fail))...): 1,
	})
}
