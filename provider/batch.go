package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// abandonGrace bounds how long Shutdown waits, once its context has ended,
// for a cancelled export and the exporter's own shutdown to return. Exporters
// that honour cancellation (OTLP, console) return within milliseconds; one
// that does not, such as a console writer stuck in Write, is left behind.
const abandonGrace = 500 * time.Millisecond

// batchConfig sizes one batching pipeline.
type batchConfig struct {
	maxQueue int           // items held before new ones are dropped
	maxBatch int           // items per export
	delay    time.Duration // longest wait before queued items are exported
	timeout  time.Duration // per export; 0 means none
}

// Defaults of the OpenTelemetry specification for the batch span and batch
// log record processors.
var (
	spanBatchDefaults = batchConfig{maxQueue: 2048, maxBatch: 512, delay: 5 * time.Second, timeout: 30 * time.Second}
	logBatchDefaults  = batchConfig{maxQueue: 2048, maxBatch: 512, delay: time.Second, timeout: 30 * time.Second}
)

// batchConfigFromEnv applies OTEL_BSP_* or OTEL_BLRP_* (prefix) to the
// defaults. Unlike the SDK, which ignores a malformed value, it fails.
func batchConfigFromEnv(prefix string, c batchConfig) (batchConfig, error) {
	read := func(name string, least int, apply func(int)) error {
		key := prefix + name
		v, ok := lookupEnv(key)
		if !ok {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			want := "a positive integer"
			if least == 0 {
				want = "a non-negative integer"
			}
			return invalidf("%s: %q is not valid (want %s)", key, v, want)
		}
		apply(n)
		return nil
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	err := errors.Join(
		read("MAX_QUEUE_SIZE", 1, func(n int) { c.maxQueue = n }),
		read("MAX_EXPORT_BATCH_SIZE", 1, func(n int) { c.maxBatch = n }),
		read("SCHEDULE_DELAY", 1, func(n int) { c.delay = ms(n) }),
		read("EXPORT_TIMEOUT", 0, func(n int) { c.timeout = ms(n) }),
	)
	if err != nil {
		return c, err
	}
	// As the specification requires of the SDKs: a batch never exceeds the
	// queue.
	c.maxBatch = min(c.maxBatch, c.maxQueue)
	return c, nil
}

func spanBatchConfig() (batchConfig, error) {
	return batchConfigFromEnv("OTEL_BSP_", spanBatchDefaults)
}

func logBatchConfig() (batchConfig, error) {
	return batchConfigFromEnv("OTEL_BLRP_", logBatchDefaults)
}

// batcher queues telemetry items and exports them in batches from one
// goroutine. It replaces the SDK's batch processors because those keep
// exporting what they hold after their Shutdown has given up: here every
// export runs under a context that Shutdown cancels when its own context
// ends, and what was still queued is counted and dropped.
type batcher[T any] struct {
	name    string    // "otlp exporter", for errors
	noun    [2]string // singular and plural: "span", "spans"
	cfg     batchConfig
	export  func(context.Context, []T) error
	stopExp func(context.Context) error
	flush   func(context.Context) error // the exporter's ForceFlush, if any

	// life is the parent of every export's context; kill cancels it when
	// Shutdown gives up.
	life context.Context
	kill context.CancelFunc

	mu        sync.Mutex
	queue     []T
	inFlight  int  // size of the batch being exported
	stopped   bool // Shutdown was called: new items are dropped
	abandoned bool // Shutdown's context ended: nothing more is exported
	full      int  // items dropped on a full queue, not yet reported

	kick     chan struct{}   // a full batch is waiting
	flushReq chan chan error // ForceFlush requests
	quit     chan struct{}   // closed by Shutdown
	done     chan struct{}   // closed when the worker has returned

	shutdownOnce sync.Once
	shutdownErr  error
}

func newBatcher[T any](name string, noun [2]string, cfg batchConfig,
	export func(context.Context, []T) error, stop, flush func(context.Context) error,
) *batcher[T] {
	b := &batcher[T]{
		name: name, noun: noun, cfg: cfg,
		export: export, stopExp: stop, flush: flush,
		kick:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	b.life, b.kill = context.WithCancel(context.Background())
	go b.run()
	return b
}

// add queues item without ever blocking: with the queue full, the item is
// dropped and counted.
func (b *batcher[T]) add(item T) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.cfg.maxQueue {
		b.full++
		b.mu.Unlock()
		return
	}
	b.queue = append(b.queue, item)
	ready := len(b.queue) >= b.cfg.maxBatch
	b.mu.Unlock()
	if ready {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func (b *batcher[T]) run() {
	defer close(b.done)
	timer := time.NewTimer(b.cfg.delay)
	defer timer.Stop()
	for {
		select {
		case <-b.quit:
			if err := b.exportAll(); err != nil {
				otel.Handle(err)
			}
			return
		case <-timer.C:
			if err := b.exportAll(); err != nil {
				otel.Handle(err)
			}
		case <-b.kick:
			if err := b.exportFull(); err != nil {
				otel.Handle(err)
			}
		case reply := <-b.flushReq:
			err := b.exportAll()
			if b.flush != nil {
				err = errors.Join(err, b.flush(b.life))
			}
			reply <- err
		}
		b.reportFull()
		timer.Reset(b.cfg.delay)
	}
}

// exportAll exports everything queued, batch by batch.
func (b *batcher[T]) exportAll() error {
	var errs []error
	for batch := b.next(1); batch != nil; batch = b.next(1) {
		errs = append(errs, b.exportBatch(batch))
	}
	return errors.Join(errs...)
}

// exportFull exports full batches only, leaving a remainder for the timer.
func (b *batcher[T]) exportFull() error {
	var errs []error
	for batch := b.next(b.cfg.maxBatch); batch != nil; batch = b.next(b.cfg.maxBatch) {
		errs = append(errs, b.exportBatch(batch))
	}
	return errors.Join(errs...)
}

// next takes the next batch off the queue if at least least items are
// queued, and records it as in flight.
func (b *batcher[T]) next(least int) []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.abandoned || len(b.queue) < least {
		return nil
	}
	n := min(len(b.queue), b.cfg.maxBatch)
	batch := make([]T, n)
	copy(batch, b.queue)
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	b.inFlight = n
	return batch
}

func (b *batcher[T]) exportBatch(batch []T) error {
	ctx, cancel := b.life, context.CancelFunc(func() {})
	if b.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(b.life, b.cfg.timeout)
	}
	err := b.export(ctx, batch)
	cancel()
	b.mu.Lock()
	b.inFlight = 0
	abandoned := b.abandoned
	b.mu.Unlock()
	if err == nil || abandoned {
		// An abandoned batch is counted in Shutdown's error.
		return nil
	}
	return fmt.Errorf("provider: %s: %s not exported: %w", b.name, count(len(batch), b.noun), err)
}

func (b *batcher[T]) reportFull() {
	b.mu.Lock()
	n := b.full
	b.full = 0
	b.mu.Unlock()
	if n > 0 {
		otel.Handle(fmt.Errorf("provider: %s: queue full (%d), %s dropped", b.name, b.cfg.maxQueue, count(n, b.noun)))
	}
}

// forceFlush exports everything queued and waits for it, or for ctx.
func (b *batcher[T]) forceFlush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case b.flushReq <- reply:
	case <-b.quit:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdown exports what is queued and shuts the exporter down. If ctx ends
// first it gives up: the export in flight is cancelled, the queue is
// dropped, and the returned error, wrapping ctx's, says how many items were
// lost. Either way no goroutine of the batcher's own is left running, unless
// the exporter ignores the cancellation: it is then waited for abandonGrace
// more and left to finish on its own.
func (b *batcher[T]) shutdown(ctx context.Context) error {
	b.shutdownOnce.Do(func() { b.shutdownErr = b.doShutdown(ctx) })
	return b.shutdownErr
}

func (b *batcher[T]) doShutdown(ctx context.Context) error {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	close(b.quit)
	// An ended ctx gives up at once, even when the queue could drain fast.
	if ctx.Err() == nil {
		select {
		case <-b.done:
			b.kill()
			return b.stopExp(ctx)
		case <-ctx.Done():
		}
	}

	// Counted and marked abandoned before the in-flight export is
	// cancelled, so that the worker reports its batch as dropped, not as an
	// ordinary failure, and takes nothing more from the queue.
	b.mu.Lock()
	b.abandoned = true
	queued, inFlight := len(b.queue), b.inFlight
	b.queue = nil
	b.mu.Unlock()
	b.kill()

	grace, cancel := context.WithTimeout(context.Background(), abandonGrace)
	defer cancel()
	select {
	case <-b.done:
	case <-grace.Done():
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// With ctx ended the OTLP exporters close their connections at
		// once; their error would only repeat ctx's.
		_ = b.stopExp(ctx)
	}()
	select {
	case <-stopped:
	case <-grace.Done():
	}
	if queued+inFlight == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s dropped (%d queued, %d in a cancelled export): %w",
		b.name, count(queued+inFlight, b.noun), queued, inFlight, ctx.Err())
}

// count formats n with the singular or plural noun.
func count(n int, noun [2]string) string {
	if n == 1 {
		return "1 " + noun[0]
	}
	return strconv.Itoa(n) + " " + noun[1]
}

// batchSpanProcessor exports sampled spans through a batcher.
type batchSpanProcessor struct {
	b *batcher[sdktrace.ReadOnlySpan]
}

func newBatchSpanProcessor(name string, exp sdktrace.SpanExporter, cfg batchConfig) *batchSpanProcessor {
	return &batchSpanProcessor{b: newBatcher(name, [2]string{"span", "spans"}, cfg, exp.ExportSpans, exp.Shutdown, nil)}
}

func (p *batchSpanProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *batchSpanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		p.b.add(s)
	}
}

func (p *batchSpanProcessor) ForceFlush(ctx context.Context) error { return p.b.forceFlush(ctx) }
func (p *batchSpanProcessor) Shutdown(ctx context.Context) error   { return p.b.shutdown(ctx) }

// batchLogProcessor exports log records through a batcher.
type batchLogProcessor struct {
	b *batcher[sdklog.Record]
}

func newBatchLogProcessor(name string, exp sdklog.Exporter, cfg batchConfig) *batchLogProcessor {
	return &batchLogProcessor{b: newBatcher(name, [2]string{"log record", "log records"}, cfg, exp.Export, exp.Shutdown, exp.ForceFlush)}
}

func (p *batchLogProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (p *batchLogProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	// The SDK reuses r once OnEmit returns.
	p.b.add(r.Clone())
	return nil
}

func (p *batchLogProcessor) ForceFlush(ctx context.Context) error { return p.b.forceFlush(ctx) }
func (p *batchLogProcessor) Shutdown(ctx context.Context) error   { return p.b.shutdown(ctx) }
