package main

import (
	"context"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// maxTraces bounds how many traces the collector holds: traces nobody takes
// (a request the gateway refused, say) are forgotten oldest first.
const maxTraces = 1000

// collector is a span processor that keeps ended spans per trace in memory,
// so that the single-process pipeline can print a trace once every span of
// it has ended. Taking a trace forgets it.
type collector struct {
	mu      sync.Mutex
	open    map[trace.TraceID]int
	ended   map[trace.TraceID][]sdktrace.ReadOnlySpan
	order   []trace.TraceID // first seen first
	changed chan struct{}   // closed and replaced on every change
}

var _ sdktrace.SpanProcessor = (*collector)(nil)

func newCollector() *collector {
	return &collector{
		open:    map[trace.TraceID]int{},
		ended:   map[trace.TraceID][]sdktrace.ReadOnlySpan{},
		changed: make(chan struct{}),
	}
}

func (c *collector) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	id := s.SpanContext().TraceID()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.open[id]; !known {
		c.order = append(c.order, id)
		for len(c.order) > maxTraces {
			delete(c.open, c.order[0])
			delete(c.ended, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.open[id]++
	c.notifyLocked()
}

func (c *collector) OnEnd(s sdktrace.ReadOnlySpan) {
	id := s.SpanContext().TraceID()
	c.mu.Lock()
	defer c.mu.Unlock()
	open, known := c.open[id]
	if !known {
		return // forgotten or taken already
	}
	if open > 0 {
		c.open[id] = open - 1
	}
	c.ended[id] = append(c.ended[id], s)
	c.notifyLocked()
}

func (c *collector) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Shutdown and ForceFlush have nothing to do: spans are kept in memory.
func (c *collector) Shutdown(context.Context) error   { return nil }
func (c *collector) ForceFlush(context.Context) error { return nil }

// Count returns how many spans have started, across all traces.
func (c *collector) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, spans := range c.ended {
		n += len(spans)
	}
	for _, open := range c.open {
		n += open
	}
	return n
}

// Take waits until no span of the trace is open, or ctx ends, and returns
// (and forgets) the trace's ended spans. complete is false when spans were
// still open.
func (c *collector) Take(ctx context.Context, id trace.TraceID) (spans []sdktrace.ReadOnlySpan, complete bool) {
	for {
		c.mu.Lock()
		open, changed := c.open[id], c.changed
		if open == 0 || ctx.Err() != nil {
			spans = c.ended[id]
			delete(c.ended, id)
			delete(c.open, id)
			for i, o := range c.order {
				if o == id {
					c.order = append(c.order[:i], c.order[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
			return spans, open == 0
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
		}
	}
}
