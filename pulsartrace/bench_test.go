package pulsartrace

import (
	"context"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// The benchmarks compare the client's own producer and consumer ("raw")
// with wrapped ones under three telemetry setups:
//
//	disabled: no-op tracer and meter providers (what a service without an
//	          OpenTelemetry SDK gets)
//	sampled:  the SDK tracer provider sampling every span, with no span
//	          processor, and the no-op meter provider
//	metrics:  sampled plus the SDK meter provider with a manual reader
type setup struct {
	name string
	opts func(b *testing.B) []asynctrace.Option
}

var setups = []setup{
	{"disabled", func(*testing.B) []asynctrace.Option {
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
	{"sampled", func(b *testing.B) []asynctrace.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
	{"metrics", func(b *testing.B) []asynctrace.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(mp),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
}

// nullProducer is a pulsar.Producer that does nothing, so that the
// benchmarks over it measure the wrapper alone.
type nullProducer struct{ id pulsar.MessageID }

func (nullProducer) Topic() string                      { return "orders" }
func (nullProducer) Name() string                       { return "null" }
func (nullProducer) LastSequenceID() int64              { return 0 }
func (nullProducer) Flush() error                       { return nil }
func (nullProducer) FlushWithCtx(context.Context) error { return nil }
func (nullProducer) Close()                             {}
func (p nullProducer) Send(context.Context, *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	return p.id, nil
}
func (p nullProducer) SendAsync(_ context.Context, m *pulsar.ProducerMessage, cb func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
	cb(p.id, m, nil)
}

// nullConsumer is a pulsar.Consumer whose Receive returns the same message
// at once and whose settlements do nothing.
type nullConsumer struct {
	pulsar.Consumer // methods the benchmarks do not call
	msg             pulsar.Message
}

func (c *nullConsumer) Subscription() string                            { return "sub" }
func (c *nullConsumer) Name() string                                    { return "null" }
func (c *nullConsumer) Receive(context.Context) (pulsar.Message, error) { return c.msg, nil }
func (c *nullConsumer) Ack(pulsar.Message) error                        { return nil }
func (c *nullConsumer) Close()                                          {}

func benchMessage() *pulsar.ProducerMessage {
	return &pulsar.ProducerMessage{Payload: make([]byte, 256), Properties: map[string]string{"tenant": "acme", "kind": "order"}}
}

func BenchmarkFakeSend(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = raw.Send(ctx, msg)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			p := WrapProducer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Send(ctx, msg)
			}
		})
	}
}

func BenchmarkFakeSendAsync(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	cb := func(pulsar.MessageID, *pulsar.ProducerMessage, error) {}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw.SendAsync(ctx, msg, cb)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			p := WrapProducer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				p.SendAsync(ctx, msg, cb)
			}
		})
	}
}

func BenchmarkFakeReceiveAck(b *testing.B) {
	props := map[string]string{"tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	raw := &nullConsumer{msg: &fakeMessage{topic: "persistent://public/default/orders", props: props, payload: make([]byte, 256), id: pulsar.NewMessageID(1, 2, -1, 0)}}
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _ := raw.Receive(ctx)
			_ = raw.Ack(m)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			c := WrapConsumer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				m, _ := c.Receive(ctx)
				_ = c.Ack(m)
			}
		})
	}
}

// benchClient starts pulsartest (or uses $PULSAR_URL) for a benchmark.
func benchClient(b *testing.B) (pulsar.Client, string) {
	br := newBroker(b)
	return br.client(b), topic(b)
}

func BenchmarkBrokerSend(b *testing.B) {
	msg := benchMessage()
	ctx := context.Background()
	run := func(b *testing.B, wrap func(pulsar.Producer) pulsar.Producer) {
		client, name := benchClient(b)
		p := wrap(createProducer(b, client, pulsar.ProducerOptions{Topic: name, DisableBatching: true}))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, func(p pulsar.Producer) pulsar.Producer { return p }) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := s.opts(b)
			run(b, func(p pulsar.Producer) pulsar.Producer { return WrapProducer(p, opts...) })
		})
	}
}

func BenchmarkBrokerSendAsync(b *testing.B) {
	msg := benchMessage()
	ctx := context.Background()
	run := func(b *testing.B, wrap func(pulsar.Producer) pulsar.Producer) {
		client, name := benchClient(b)
		p := wrap(createProducer(b, client, pulsar.ProducerOptions{Topic: name, MaxPendingMessages: 10000}))
		cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			if err != nil {
				b.Error(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			p.SendAsync(ctx, msg, cb)
		}
		if err := p.FlushWithCtx(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, func(p pulsar.Producer) pulsar.Producer { return p }) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := s.opts(b)
			run(b, func(p pulsar.Producer) pulsar.Producer { return WrapProducer(p, opts...) })
		})
	}
}

// BenchmarkBrokerEndToEnd sends b.N messages with SendAsync (batching on)
// and receives and acknowledges them all, reporting messages per second
// from the first send to the last ack.
func BenchmarkBrokerEndToEnd(b *testing.B) {
	run := func(b *testing.B, opts []asynctrace.Option, traced bool) {
		client, name := benchClient(b)
		var c pulsar.Consumer = subscribe(b, client, pulsar.ConsumerOptions{Topic: name, ReceiverQueueSize: 1000})
		var p pulsar.Producer = createProducer(b, client, pulsar.ProducerOptions{Topic: name, MaxPendingMessages: 10000})
		if traced {
			c = WrapConsumer(c, opts...)
			p = WrapProducer(p, opts...)
		}
		msg := benchMessage()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			if err != nil {
				b.Error(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			for i := 0; i < b.N; i++ {
				m, err := c.Receive(ctx)
				if err != nil {
					done <- err
					return
				}
				if err := c.Ack(m); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i := 0; i < b.N; i++ {
			p.SendAsync(ctx, msg, cb)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		if traced {
			c.Close()
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, nil, false) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) { run(b, s.opts(b), true) })
	}
}
