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
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

func TestMetricsCountMessagesAndProcessDurations(t *testing.T) {
	tel := telemetrytest.New(t)
	opts := tel.Options(asynctrace.WithMessagingSystem("redis"))

	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(opts...))
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
	watermilltest.StartRouter(t, r)

	pub := watermilltrace.WrapPublisher(g, opts...)
	for _, id := range []string{"a", "bad", "c"} {
		if err := pub.Publish("metered", message.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	telemetrytest.Recv(t, done, "three handled messages")
	tel.WaitEnded(t, "process metered", 4)

	// A process span ends just before its duration is recorded: wait for
	// the last one.
	const processDuration = "messaging.process.duration"
	for deadline := time.Now().Add(telemetrytest.WaitTimeout); tel.HistogramCount(t, processDuration) < 4 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}

	var rm metricdata.ResourceMetrics
	if err := tel.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != watermilltrace.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
	}

	base := []attribute.KeyValue{
		attribute.String("messaging.system", "redis"),
		attribute.String("messaging.destination.name", "metered"),
	}
	with := func(extra ...attribute.KeyValue) []attribute.KeyValue {
		return append(append([]attribute.KeyValue{}, base...), extra...)
	}
	send := with(attribute.String("messaging.operation.name", "send"), attribute.String("messaging.operation.type", "send"))
	consume := with(attribute.String("messaging.operation.name", "process"))
	process := with(attribute.String("messaging.operation.name", "process"), attribute.String("messaging.operation.type", "process"))
	processErr := append(process[:len(process):len(process)], attribute.String("error.type", "*errors.errorString"))

	// Each total is compared with the count of the points carrying the
	// expected attributes, so that no point may carry others.
	for _, c := range []struct {
		name  string
		match []attribute.KeyValue
		want  int64
	}{
		{"messaging.client.sent.messages", nil, 3},
		{"messaging.client.sent.messages", send, 3},
		{"messaging.client.consumed.messages", nil, 4}, // one redelivery
		{"messaging.client.consumed.messages", consume, 4},
	} {
		if got := tel.CounterSum(t, c.name, c.match...); got != c.want {
			t.Errorf("%s with %v: %d, want %d", c.name, c.match, got, c.want)
		}
	}
	for _, c := range []struct {
		name  string
		match []attribute.KeyValue
		want  uint64
	}{
		{processDuration, nil, 4},
		{processDuration, process, 4},
		{processDuration, processErr, 1},
		{"messaging.client.operation.duration", nil, 3}, // the sends only
		{"messaging.client.operation.duration", send, 3},
	} {
		if got := tel.HistogramCount(t, c.name, c.match...); got != c.want {
			t.Errorf("%s with %v: %d, want %d", c.name, c.match, got, c.want)
		}
	}
	// The three successes carry no error.type.
	h, ok := tel.Metrics(t)[processDuration].Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is not a float64 histogram", processDuration)
	}
	var succeeded uint64
	for _, dp := range h.DataPoints {
		if _, failed := dp.Attributes.Value("error.type"); !failed {
			succeeded += dp.Count
		}
	}
	if succeeded != 3 {
		t.Errorf("%d process durations without error.type, want 3", succeeded)
	}
}
