package watermilltrace_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestMetricsCountMessagesAndProcessDurations(t *testing.T) {
	tr := newTracing(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	opts := tr.opts(asynctrace.WithMeterProvider(mp), asynctrace.WithMessagingSystem("redis"))

	g := newGoChannel(t, gochannel.Config{})
	r := newRouter(t)
	r.AddMiddleware(watermilltrace.Middleware(opts...))
	var failures atomic.Int32
	var handled atomic.Int32
	done := make(chan struct{})
	r.AddConsumerHandler("count", "metered", g, func(msg *message.Message) error {
		if msg.UUID == "bad" && failures.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		if handled.Add(1) == 3 {
			close(done)
		}
		return nil
	})
	startRouter(t, r)

	pub := watermilltrace.WrapPublisher(g, opts...)
	for _, id := range []string{"a", "bad", "c"} {
		if err := pub.Publish("metered", message.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, done, "three handled messages")
	tr.waitSpans(t, "process metered", 4)

	// A process span ends just before its duration is recorded: wait for
	// the last one.
	var rm metricdata.ResourceMetrics
	for deadline := time.Now().Add(5 * time.Second); ; {
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		if processCount(rm) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	metrics := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != watermilltrace.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			metrics[m.Name] = m.Data
		}
	}

	base := []attribute.KeyValue{
		attribute.String("messaging.system", "redis"),
		attribute.String("messaging.destination.name", "metered"),
	}
	set := func(extra ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(append([]attribute.KeyValue{}, base...), extra...)...)
	}
	sendSet := set(attribute.String("messaging.operation.name", "send"), attribute.String("messaging.operation.type", "send"))
	consumeSet := set(attribute.String("messaging.operation.name", "process"))
	processSet := set(attribute.String("messaging.operation.name", "process"), attribute.String("messaging.operation.type", "process"))
	processErrSet := set(attribute.String("messaging.operation.name", "process"), attribute.String("messaging.operation.type", "process"),
		attribute.String("error.type", "*errors.errorString"))

	sums := func(name string) map[attribute.Set]int64 {
		sum, ok := metrics[name].(metricdata.Sum[int64])
		if !ok {
			t.Fatalf("%s: %T, want an int64 sum", name, metrics[name])
		}
		out := map[attribute.Set]int64{}
		for _, dp := range sum.DataPoints {
			out[dp.Attributes] = dp.Value
		}
		return out
	}
	counts := func(name string) map[attribute.Set]uint64 {
		h, ok := metrics[name].(metricdata.Histogram[float64])
		if !ok {
			t.Fatalf("%s: %T, want a float64 histogram", name, metrics[name])
		}
		out := map[attribute.Set]uint64{}
		for _, dp := range h.DataPoints {
			out[dp.Attributes] = dp.Count
		}
		return out
	}

	if got := sums("messaging.client.sent.messages"); len(got) != 1 || got[sendSet] != 3 {
		t.Errorf("sent messages %v, want 3 with %v", got, sendSet.ToSlice())
	}
	if got := sums("messaging.client.consumed.messages"); len(got) != 1 || got[consumeSet] != 4 {
		t.Errorf("consumed messages %v, want 4 (one redelivery) with %v", got, consumeSet.ToSlice())
	}
	if got := counts("messaging.process.duration"); len(got) != 2 || got[processSet] != 3 || got[processErrSet] != 1 {
		t.Errorf("process durations %v, want 3 successes and 1 failure", got)
	}
	if got := counts("messaging.client.operation.duration"); len(got) != 1 || got[sendSet] != 3 {
		t.Errorf("operation durations %v, want the 3 sends", got)
	}
}

// processCount is the number of messaging.process.duration measurements in rm.
func processCount(rm metricdata.ResourceMetrics) uint64 {
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "messaging.process.duration" {
				for _, dp := range h.DataPoints {
					n += dp.Count
				}
			}
		}
	}
	return n
}
