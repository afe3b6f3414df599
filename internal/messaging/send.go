package messaging

import (
	"context"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Send is one message being sent. The zero Send is inert: End on it does
// nothing, so adapters may keep one in a struct before knowing whether a send
// will happen.
type Send struct {
	in    *Instrumenter
	d     *Destination
	ctx   context.Context
	span  trace.Span
	start time.Time
}

// StartSend starts the PRODUCER span "send <destination>" as a child of
// ctx's span, and returns the context that carries it, the Send to end, and
// props with that context injected. props is never written: the returned map
// is a copy when anything was injected. bodySize is the payload size in bytes
// (recorded only with the body-size option); it counts toward the adapter's
// Limits.MaxMessageBytes.
func (in *Instrumenter) StartSend(ctx context.Context, d *Destination, props map[string]string, bodySize int) (context.Context, Send, map[string]string) {
	var start time.Time
	if in.metrics.sendEnabled(ctx) {
		start = time.Now() // only the duration metric reads it
	}
	tr := in.tracers.get()
	if tr.off {
		return ctx, Send{in: in, d: d, ctx: ctx, span: noopSpan, start: start}, in.injector.InjectSized(ctx, props, bodySize)
	}
	ctx, span := tr.tracer.Start(ctx, d.sendName, d.sendStart...)
	if in.cfg.RecordBodySize && span.IsRecording() {
		span.SetAttributes(bodySizeAttribute(bodySize))
	}
	return ctx, Send{in: in, d: d, ctx: ctx, span: span, start: start}, in.injector.InjectSized(ctx, props, bodySize)
}

// Span is the send span (a no-op span for the zero Send or with tracing
// off), for attributes only one adapter knows about. Check IsRecording
// before building them.
func (s Send) Span() trace.Span {
	if s.span == nil {
		return noopSpan
	}
	return s.span
}

var noopSpan trace.Span = noop.Span{}

// Observed reports whether End would record anything: the span is recording
// or a send metric is enabled. An adapter may skip work it does only to call
// End later (keeping a callback, watching a result) when it is false; not
// calling End then is safe.
func (s Send) Observed() bool {
	if s.in == nil {
		return false
	}
	return s.span.IsRecording() || s.in.metrics.sendEnabled(s.ctx)
}

// End ends the send span with the broker-assigned message id (if known) or
// the error of the send, and records the send metrics. Call it exactly once.
func (s Send) End(messageID string, err error) {
	if s.in == nil {
		return
	}
	if s.span.IsRecording() {
		endAttributes(s.span, messageID, err)
	}
	s.span.End()
	s.in.metrics.recordSend(s.ctx, s.d, s.start, err)
}

// endAttributes records the outcome on a recording span.
func endAttributes(span trace.Span, messageID string, err error, extra ...attribute.KeyValue) {
	attrs := extra
	if messageID != "" {
		attrs = append(attrs, messageIDAttribute(messageID))
	}
	if err != nil {
		attrs = append(attrs, errorTypeAttribute(err))
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	if len(attrs) > 0 {
		span.SetAttributes(attrs...)
	}
}

// SameMap reports whether a and b are the same map, not merely equal ones:
// whether StartSend handed back the caller's properties (nothing injected)
// or a copy, which the adapter must then put on a copy of the message.
func SameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
