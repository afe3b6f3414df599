package watermilltrace_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// discardExporter drops every span: the sampled benchmarks measure the
// instrumentation and the SDK, not an exporter.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// benchModes are the configurations compared: no instrumentation at all,
// instrumentation with tracing disabled, and every message sampled.
func benchModes(b *testing.B) []struct {
	name string
	opts []asynctrace.Option // nil: not instrumented
} {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(discardExporter{}))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return []struct {
		name string
		opts []asynctrace.Option
	}{
		{"undecorated", nil},
		{"disabled", []asynctrace.Option{
			asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(propagator),
		}},
		{"sampled", []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(propagator),
		}},
	}
}

// BenchmarkOverhead measures what the decorator and the middleware add to
// one message, with no broker: a publish to a publisher that does nothing,
// then the handler chain on the same message.
func BenchmarkOverhead(b *testing.B) {
	for _, mode := range benchModes(b) {
		b.Run(mode.name, func(b *testing.B) {
			var pub message.Publisher = publishFunc(func(string, ...*message.Message) error { return nil })
			h := message.HandlerFunc(func(*message.Message) ([]*message.Message, error) { return nil, nil })
			if mode.opts != nil {
				pub = watermilltrace.WrapPublisher(pub, mode.opts...)
				h = watermilltrace.Middleware(mode.opts...)(h)
			}
			msg := message.NewMessage("bench", []byte("payload"))
			// Never written: the publisher replaces the field with a copy.
			metadata := message.Metadata{"tenant": "acme"}
			base := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				// A fresh message each time, without allocating one.
				msg.Metadata = metadata
				msg.SetContext(base)
				if err := pub.Publish("bench", msg); err != nil {
					b.Fatal(err)
				}
				if _, err := h(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGoChannelRoundTrip measures one message's whole trip: publish
// to GoChannel, the router runs the handler, the message is acked (Publish
// waits for the ack).
func BenchmarkGoChannelRoundTrip(b *testing.B) {
	for _, mode := range benchModes(b) {
		b.Run(mode.name, func(b *testing.B) {
			g := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
			b.Cleanup(func() { _ = g.Close() })
			r := newRouter(b)
			var pub message.Publisher = g
			if mode.opts != nil {
				r.AddMiddleware(watermilltrace.Middleware(mode.opts...))
				pub = watermilltrace.WrapPublisher(g, mode.opts...)
			}
			r.AddConsumerHandler("bench", "bench", g, func(*message.Message) error { return nil })
			startRouter(b, r)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := pub.Publish("bench", message.NewMessage("bench", []byte("payload"))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRedisThroughput publishes b.N messages to a Redis stream while
// a router consumes them, and reports messages per second from the first
// publish to the last handled message. Traced runs sample every message and
// export in batches over OTLP/HTTP to a receiver in this process (which
// decodes them, as a collector would, on the same two cores).
func BenchmarkRedisThroughput(b *testing.B) {
	requireReachable(b, "Redis", redisAddr)
	for _, run := range []struct {
		name   string
		traced bool
		otlp   bool
	}{
		{"untraced", false, false},
		{"traced", true, true},
		// The spans are made and batched but dropped, which separates the
		// cost of the instrumentation from that of exporting.
		{"traced-no-export", true, false},
	} {
		traced := run.traced
		b.Run(run.name, func(b *testing.B) {
			var opts []asynctrace.Option
			var tp *sdktrace.TracerProvider
			if traced {
				var exp sdktrace.SpanExporter = discardExporter{}
				if run.otlp {
					srv := otlptest.NewServer()
					b.Cleanup(srv.Close)
					u, _ := url.Parse(srv.URL())
					var err error
					exp, err = otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithInsecure())
					if err != nil {
						b.Fatal(err)
					}
				}
				tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exp))
				b.Cleanup(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					_ = tp.Shutdown(ctx)
				})
				opts = []asynctrace.Option{asynctrace.WithTracerProvider(tp), asynctrace.WithPropagators(propagator), asynctrace.WithMessagingSystem("redis")}
			}
			topic := uniqueName("bench")
			admin := redis.NewClient(&redis.Options{Addr: redisAddr})
			b.Cleanup(func() {
				_ = admin.Del(context.Background(), topic).Err()
				_ = admin.Close()
			})
			var pub message.Publisher
			pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: redis.NewClient(&redis.Options{Addr: redisAddr})}, watermill.NopLogger{})
			if err != nil {
				b.Fatal(err)
			}
			sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
				Client:        redis.NewClient(&redis.Options{Addr: redisAddr}),
				ConsumerGroup: uniqueName("group"),
				BlockTime:     100 * time.Millisecond,
				// See setupRedis.
				ShouldStopOnReadErrors: stopOnReadError,
			}, watermill.NopLogger{})
			if err != nil {
				b.Fatal(err)
			}
			r := newRouter(b)
			if traced {
				r.AddMiddleware(watermilltrace.Middleware(opts...))
				pub = watermilltrace.WrapPublisher(pub, opts...)
			}
			b.Cleanup(func() { _ = pub.Close() })
			var handled atomic.Int64
			all := make(chan struct{})
			want := int64(b.N)
			r.AddConsumerHandler("bench", topic, sub, func(*message.Message) error {
				if handled.Add(1) == want {
					close(all)
				}
				return nil
			})
			startRouter(b, r)

			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte(`{"order":1}`))); err != nil {
					b.Fatal(err)
				}
			}
			published := time.Since(start)
			select {
			case <-all:
			case <-time.After(time.Minute):
				b.Fatalf("%d of %d messages handled within a minute", handled.Load(), b.N)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			// Where the time goes: the publishing loop alone, per message.
			b.ReportMetric(float64(published.Microseconds())/float64(b.N), "publish-us/msg")
		})
	}
}
