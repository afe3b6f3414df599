//go:build unix

package watermilltrace_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// endCounter counts ended spans.
type endCounter struct{ ended *sync.WaitGroup }

func (endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c endCounter) OnEnd(sdktrace.ReadOnlySpan)                   { c.ended.Done() }
func (endCounter) Shutdown(context.Context) error                  { return nil }
func (endCounter) ForceFlush(context.Context) error                { return nil }

// benchSource is a subscriber whose one subscription delivers what the
// benchmark sends.
type benchSource struct{ ch chan *message.Message }

func (s benchSource) Subscribe(context.Context, string) (<-chan *message.Message, error) {
	return s.ch, nil
}

func (s benchSource) Close() error { close(s.ch); return nil }

// BenchmarkWatchSettlements measures a subscription from WrapSubscriber
// with inflight messages unsettled at once: inflight messages are read from
// the returned channel, then acked in delivery order, and the next ones are
// read once every span has ended. One op is one message, with a sampled
// process span and no exporter. cpu-ns/op is the CPU time of the whole
// process per message, goroutines how many the subscription runs while
// inflight messages are unsettled, stack-B/inflight the goroutine stack
// memory per unsettled message.
func BenchmarkWatchSettlements(b *testing.B) {
	for _, inflight := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) { benchSettlements(b, inflight) })
	}
}

func benchSettlements(b *testing.B, inflight int) {
	var ended sync.WaitGroup
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(endCounter{&ended}))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	src := benchSource{ch: make(chan *message.Message)}
	sub := watermilltrace.WrapSubscriber(src,
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
		watermilltrace.WithMaxUnsettled(inflight),
	)
	msgs := make([]*message.Message, b.N)
	for i := range msgs {
		msgs[i] = message.NewMessage("m", nil)
	}
	out, err := sub.Subscribe(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for _, m := range msgs {
			src.ch <- m
		}
	}()
	var before, peak runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutinesBefore := runtime.NumGoroutine()
	goroutines := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpuStart := cpuTime()
	for start := 0; start < b.N; start += inflight {
		end := min(start+inflight, b.N)
		ended.Add(end - start)
		for range end - start {
			<-out
		}
		if start == 0 {
			b.StopTimer()
			goroutines = runtime.NumGoroutine() - goroutinesBefore
			runtime.ReadMemStats(&peak)
			b.StartTimer()
		}
		for _, m := range msgs[start:end] {
			m.Ack()
		}
		ended.Wait()
	}
	cpu := cpuTime() - cpuStart
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if inflight <= b.N {
		// The subscription's own goroutine and the feeding one ran before.
		b.ReportMetric(float64(goroutines), "goroutines")
		b.ReportMetric(float64(int64(peak.StackInuse)-int64(before.StackInuse))/float64(inflight), "stack-B/inflight")
	}
	<-fed
	if err := sub.Close(); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time (user and system) the process has used so far,
// on all its threads: the wall time of a benchmark that wakes goroutines on
// other cores is not what it costs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
