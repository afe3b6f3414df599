//go:build unix

package pubsubtrace

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// benchResult is a publish result completed by the benchmark; Get, which
// ending a span calls once, counts the ended spans.
type benchResult struct {
	ready chan struct{}
	ended *sync.WaitGroup
}

func (r *benchResult) Ready() <-chan struct{} { return r.ready }

func (r *benchResult) Get(context.Context) (string, error) {
	r.ended.Done()
	return "id", nil
}

// BenchmarkWatchSends measures ending the send spans of publishes, with
// inflight publishes outstanding at once: they are all handed over, then
// completed in publish order, and the next inflight follow once every span
// has ended. One op is one publish. spans=none measures the engine alone
// (the spans record nothing), spans=sampled with a sampled span per publish
// and no exporter. cpu-ns/op is the CPU time of the whole
// process per publish, goroutines is how many the engine runs while inflight
// publishes are outstanding, stack-B/inflight the goroutine stack memory
// per outstanding publish.
func BenchmarkWatchSends(b *testing.B) {
	for _, spans := range []string{"none", "sampled"} {
		for _, inflight := range []int{1, 100, 10000} {
			name := fmt.Sprintf("spans=%s/inflight=%d", spans, inflight)
			b.Run(name, func(b *testing.B) { benchWatch(b, newWatcher(), inflight, spans == "sampled") })
		}
	}
}

func benchWatch(b *testing.B, w *watcher, inflight int, sampled bool) {
	var (
		in   *messaging.Instrumenter
		dest *messaging.Destination
	)
	if sampled {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		in, _ = newInstrumenter("WrapPublisher", []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
		})
		dest = in.Destination("bench", "", "")
	}
	var ended sync.WaitGroup
	results := make([]benchResult, b.N)
	for i := range results {
		results[i] = benchResult{ready: make(chan struct{}), ended: &ended}
	}
	ctx := context.Background()
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
		for i := start; i < end; i++ {
			var send messaging.Send
			if sampled {
				_, send, _ = in.StartSend(ctx, dest, nil, 0)
			}
			w.add(&results[i], send)
		}
		if start == 0 {
			b.StopTimer()
			goroutines = runtime.NumGoroutine() - goroutinesBefore
			runtime.ReadMemStats(&peak)
			b.StartTimer()
		}
		for i := start; i < end; i++ {
			close(results[i].ready)
		}
		ended.Wait()
	}
	cpu := cpuTime() - cpuStart
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	<-w.close(false)
	if n := min(inflight, b.N); n == inflight {
		b.ReportMetric(float64(goroutines), "goroutines")
		b.ReportMetric(float64(int64(peak.StackInuse)-int64(before.StackInuse))/float64(n), "stack-B/inflight")
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
