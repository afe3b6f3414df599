package watermillbackends_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
	"github.com/asynctrace/asynctrace/internal/otlptest"
	"github.com/asynctrace/asynctrace/internal/servicetest"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// discardExporter drops every span: it separates the cost of making spans
// from that of exporting them.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkRedisThroughput publishes b.N messages to a Redis stream while
// a router consumes them, and reports messages per second from the first
// publish to the last handled message. Traced runs sample every message and
// export in batches over OTLP/HTTP to a receiver in this process (which
// decodes them, as a collector would, on the same two cores).
func BenchmarkRedisThroughput(b *testing.B) {
	servicetest.RequireReachable(b, "Redis", redisAddr)
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
				opts = []asynctrace.Option{asynctrace.WithTracerProvider(tp), asynctrace.WithPropagators(telemetrytest.W3C), asynctrace.WithMessagingSystem("redis")}
			}
			topic := servicetest.UniqueName("bench")
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
				ConsumerGroup: servicetest.UniqueName("group"),
				BlockTime:     100 * time.Millisecond,
				// See setupRedis.
				ShouldStopOnReadErrors: stopOnReadError,
			}, watermill.NopLogger{})
			if err != nil {
				b.Fatal(err)
			}
			r := watermilltest.NewRouter(b)
			if traced {
				r.AddMiddleware(watermilltrace.NewMiddleware(opts...))
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
			watermilltest.StartRouter(b, r)

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

// BenchmarkABExport compares, over Redis Streams, no tracing (untraced),
// the library (lib), the same tracing written by hand with the same SDK
// (hand), both batch-exporting over OTLP/HTTP to the receiver at
// $ASYNCTRACE_BENCH_OTLP (run by internal/cmd/benchab in a process of its
// own), and the SDK floor: the untraced loop plus two bare spans per
// message, sampled and not exported. cpu-ns/op is the process's CPU per
// message, from the first publish to the last handled message and the
// export of the last span.
func BenchmarkABExport(b *testing.B) {
	servicetest.RequireReachable(b, "Redis", redisAddr)
	endpoint := os.Getenv("ASYNCTRACE_BENCH_OTLP")
	if endpoint == "" {
		b.Skip("ASYNCTRACE_BENCH_OTLP is not set: run through go run ./internal/cmd/benchab")
	}
	exporting := func(b *testing.B) (*sdktrace.TracerProvider, func()) {
		u, err := url.Parse(endpoint)
		if err != nil {
			b.Fatal(err)
		}
		// Its own transport, whose keep-alive connections the cleanup
		// closes, so that the goroutine-leak check passes.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithInsecure(),
			otlptracehttp.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exp))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			tr.CloseIdleConnections()
		})
		return tp, func() {
			if err := tp.ForceFlush(context.Background()); err != nil {
				b.Error(err)
			}
		}
	}
	libOpts := func(tp trace.TracerProvider) []asynctrace.Option {
		return []asynctrace.Option{asynctrace.WithTracerProvider(tp), asynctrace.WithPropagators(telemetrytest.W3C),
			asynctrace.WithMessagingSystem("redis"), asynctrace.WithMeterProvider(metricnoop.NewMeterProvider())}
	}
	b.Run("untraced", func(b *testing.B) { abRedis(b, nil, nil, nil) })
	b.Run("lib", func(b *testing.B) {
		tp, flush := exporting(b)
		opts := libOpts(tp)
		abRedis(b, func(p message.Publisher) message.Publisher { return watermilltrace.WrapPublisher(p, opts...) },
			watermilltrace.NewMiddleware(opts...), flush)
	})
	b.Run("hand", func(b *testing.B) {
		tp, flush := exporting(b)
		h := watermilltest.NewHand(b, tp, libOpts)
		abRedis(b, h.Publisher, h.Middleware, flush)
	})
	b.Run("floor", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		tr := tp.Tracer("floor")
		bare := func(ctx context.Context, name string) {
			_, span := tr.Start(ctx, name)
			span.End()
		}
		abRedis(b, func(p message.Publisher) message.Publisher {
			return watermilltest.PublishFunc(func(topic string, msgs ...*message.Message) error {
				bare(context.Background(), "send")
				return p.Publish(topic, msgs...)
			})
		}, func(next message.HandlerFunc) message.HandlerFunc {
			return func(msg *message.Message) ([]*message.Message, error) {
				bare(msg.Context(), "process")
				return next(msg)
			}
		}, nil)
	})
}

// abRedis publishes b.N messages to a Redis stream, one Publish at a time,
// while a router handles them.
func abRedis(b *testing.B, wrap func(message.Publisher) message.Publisher, mw message.HandlerMiddleware, flush func()) {
	topic := servicetest.UniqueName("bench")
	admin := redis.NewClient(&redis.Options{Addr: redisAddr})
	b.Cleanup(func() {
		_ = admin.Del(context.Background(), topic).Err()
		_ = admin.Close()
	})
	raw, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: redis.NewClient(&redis.Options{Addr: redisAddr})}, watermill.NopLogger{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = raw.Close() })
	sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client:                 redis.NewClient(&redis.Options{Addr: redisAddr}),
		ConsumerGroup:          servicetest.UniqueName("group"),
		BlockTime:              100 * time.Millisecond,
		ShouldStopOnReadErrors: stopOnReadError,
	}, watermill.NopLogger{})
	if err != nil {
		b.Fatal(err)
	}
	var pub message.Publisher = raw
	if wrap != nil {
		pub = wrap(raw)
	}
	r := watermilltest.NewRouter(b)
	if mw != nil {
		r.AddMiddleware(mw)
	}
	var handled atomic.Int64
	all := make(chan struct{})
	want := int64(b.N)
	r.AddConsumerHandler("bench", topic, sub, func(*message.Message) error {
		if handled.Add(1) == want {
			close(all)
		}
		return nil
	})
	watermilltest.StartRouter(b, r)
	b.ResetTimer()
	m := benchcpu.Start(b)
	for range b.N {
		if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte(`{"order":1}`))); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d messages handled within a minute", handled.Load(), b.N)
	}
	if flush != nil {
		flush()
	}
	m.Stop()
	b.StopTimer()
}
