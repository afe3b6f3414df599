package tracecheck

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Defaults of [NewTreeExporter].
const (
	DefaultMaxPendingSpans = 10000
	DefaultMaxPendingAge   = time.Minute
)

// ExporterOption configures a [TreeExporter].
type ExporterOption interface {
	applyExporter(*exporterConfig)
}

type exporterConfig struct {
	maxSpans int
	maxAge   time.Duration
	now      func() time.Time
}

type exporterOptionFunc func(*exporterConfig)

func (f exporterOptionFunc) applyExporter(c *exporterConfig) { f(c) }

// WithMaxPendingSpans bounds how many spans the exporter holds while it
// waits for their local roots to end (DefaultMaxPendingSpans by default).
// Past the bound the trace waiting longest is printed as it is, marked
// incomplete, and forgotten.
func WithMaxPendingSpans(n int) ExporterOption {
	if n <= 0 {
		panic(fmt.Sprintf("tracecheck.WithMaxPendingSpans: n must be positive, got %d", n))
	}
	return exporterOptionFunc(func(c *exporterConfig) { c.maxSpans = n })
}

// WithMaxPendingAge bounds how long the exporter holds the spans of a
// trace whose local root has not ended (DefaultMaxPendingAge by default).
// Older traces are printed as they are, marked incomplete, the next time
// spans are exported.
func WithMaxPendingAge(d time.Duration) ExporterOption {
	if d <= 0 {
		panic(fmt.Sprintf("tracecheck.WithMaxPendingAge: age must be positive, got %v", d))
	}
	return exporterOptionFunc(func(c *exporterConfig) { c.maxAge = d })
}

// TreeExporter is an OpenTelemetry SDK span exporter that prints traces as
// the tree [Render] draws, for reading while developing. It holds the
// spans of a trace until the trace's local root ends (a span without a
// parent, or whose parent is in another process), then prints that span
// with everything below it: the part of the trace this process recorded.
// Spans that end after their local root, and traces whose local root
// never ends, are printed when a bound is reached (see
// [WithMaxPendingSpans], [WithMaxPendingAge]) or at Shutdown.
//
// It is safe for concurrent use; each tree is written with one Write call.
type TreeExporter struct {
	w   io.Writer
	cfg exporterConfig

	mu       sync.Mutex
	pending  map[string]*pendingTrace
	count    int // spans held in pending
	shutdown bool
}

type pendingTrace struct {
	first time.Time
	spans []Span
	// remote holds the span ids whose parent is in another process.
	remote map[string]bool
}

var _ sdktrace.SpanExporter = (*TreeExporter)(nil)

// NewTreeExporter returns a TreeExporter writing to w. Install it like any
// exporter, for example with sdktrace.WithBatcher, or with
// sdktrace.WithSyncer to see each tree as soon as its root ends.
func NewTreeExporter(w io.Writer, opts ...ExporterOption) *TreeExporter {
	if w == nil {
		panic("tracecheck.NewTreeExporter: w is nil")
	}
	cfg := exporterConfig{maxSpans: DefaultMaxPendingSpans, maxAge: DefaultMaxPendingAge, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.applyExporter(&cfg)
		}
	}
	return &TreeExporter{w: w, cfg: cfg, pending: make(map[string]*pendingTrace)}
}

// ExportSpans takes finished spans and prints every local tree that is now
// complete. It returns the writer's error, if any.
func (e *TreeExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return nil
	}
	now := e.cfg.now()
	type rootRef struct{ trace, span string }
	var ended []rootRef
	for _, ro := range spans {
		if ro == nil {
			continue
		}
		converted := FromSDK([]sdktrace.ReadOnlySpan{ro})
		s := converted[0]
		p := e.pending[s.TraceID]
		if p == nil {
			p = &pendingTrace{first: now, remote: make(map[string]bool)}
			e.pending[s.TraceID] = p
		}
		p.spans = append(p.spans, s)
		e.count++
		parent := ro.Parent()
		if parent.IsRemote() && parent.SpanID().IsValid() {
			p.remote[s.SpanID] = true
		}
		if !parent.SpanID().IsValid() || parent.IsRemote() {
			ended = append(ended, rootRef{s.TraceID, s.SpanID})
		}
	}
	var out strings.Builder
	for _, r := range ended {
		e.takeTree(&out, r.trace, r.span)
	}
	e.evict(&out, now)
	return e.write(out.String())
}

// takeTree moves the local root and the spans below it out of pending and
// renders them.
func (e *TreeExporter) takeTree(out *strings.Builder, traceID, rootID string) {
	p := e.pending[traceID]
	if p == nil {
		return
	}
	children := make(map[string][]int)
	rootAt := -1
	for i, s := range p.spans {
		if s.SpanID == rootID && rootAt < 0 {
			rootAt = i
			continue
		}
		children[s.ParentSpanID] = append(children[s.ParentSpanID], i)
	}
	if rootAt < 0 {
		return
	}
	take := map[int]bool{rootAt: true}
	queue := []string{rootID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, i := range children[id] {
			if !take[i] {
				take[i] = true
				queue = append(queue, p.spans[i].SpanID)
			}
		}
	}
	var tree, rest []Span
	for i, s := range p.spans {
		if take[i] {
			tree = append(tree, s)
		} else {
			rest = append(rest, s)
		}
	}
	e.count -= len(tree)
	if len(rest) == 0 {
		delete(e.pending, traceID)
	} else {
		p.spans = rest
	}
	e.render(out, tree, p.remote, "")
}

// evict prints and forgets the traces past the age bound, then the oldest
// traces until the span bound holds.
func (e *TreeExporter) evict(out *strings.Builder, now time.Time) {
	ids := make([]string, 0, len(e.pending))
	for id := range e.pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := e.pending[ids[i]], e.pending[ids[j]]
		if !a.first.Equal(b.first) {
			return a.first.Before(b.first)
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		p := e.pending[id]
		if now.Sub(p.first) < e.cfg.maxAge && e.count <= e.cfg.maxSpans {
			break
		}
		e.drop(out, id, "incomplete: spans without their local root")
	}
}

func (e *TreeExporter) drop(out *strings.Builder, traceID, note string) {
	p := e.pending[traceID]
	delete(e.pending, traceID)
	e.count -= len(p.spans)
	e.render(out, p.spans, p.remote, note)
}

func (e *TreeExporter) render(out *strings.Builder, spans []Span, remote map[string]bool, note string) {
	if note != "" {
		fmt.Fprintf(out, "(%s)\n", note)
	}
	out.WriteString(renderRemote(spans, remote))
	out.WriteByte('\n')
}

func (e *TreeExporter) write(s string) error {
	if s == "" {
		return nil
	}
	if _, err := io.WriteString(e.w, s); err != nil {
		return fmt.Errorf("tracecheck: tree exporter: %w", err)
	}
	return nil
}

// Shutdown prints every trace still held, marked incomplete, and makes
// later exports do nothing.
func (e *TreeExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return nil
	}
	e.shutdown = true
	ids := make([]string, 0, len(e.pending))
	for id := range e.pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out strings.Builder
	for _, id := range ids {
		e.drop(&out, id, "incomplete at shutdown: spans without their local root")
	}
	return e.write(out.String())
}
