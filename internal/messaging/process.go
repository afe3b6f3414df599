package messaging

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Process is one received message being processed. The zero Process is
// inert: End on it does nothing.
type Process struct {
	in    *Instrumenter
	d     *Destination
	ctx   context.Context
	span  trace.Span
	start time.Time
}

// StartProcess extracts the producer's context from props and starts the
// CONSUMER span "process <destination>".
//
// By default the span is a child of the producer's span, so the trace goes on
// unbroken; if ctx already carries a span of the consumer's own (a receive
// loop, a batch), that span is kept as a link. With LinkToProducer the span is
// instead a child of ctx's span, or a new root, with a link to the producer's
// span. A message without trace context, or with a malformed one, gets a
// span parented by ctx alone: it is processed like any other.
//
// The returned context carries the span and any baggage the producer sent;
// hand it to the user's handler.
func (in *Instrumenter) StartProcess(ctx context.Context, d *Destination, props map[string]string, messageID string, bodySize int) (context.Context, Process) {
	start := time.Now()
	tr := in.tracers.get()
	if tr.off {
		ctx = in.extractor.Extract(ctx, props)
		in.metrics.recordConsumed(ctx, d)
		return ctx, Process{in: in, d: d, ctx: ctx, span: noopSpan, start: start}
	}
	ambient := trace.SpanContextFromContext(ctx)
	extracted := in.extractor.Extract(ctx, props)
	remote := trace.SpanContextFromContext(extracted)

	var span trace.Span
	switch {
	case !remote.IsValid() || remote.Equal(ambient):
		ctx, span = tr.tracer.Start(extracted, d.processName, d.processStart...)
	case in.cfg.LinkToProducer:
		ctx, span = startLinked(tr.tracer, extracted, d, ambient, remote)
	case ambient.IsValid():
		opts := append(d.processStart[:len(d.processStart):len(d.processStart)], trace.WithLinks(trace.Link{SpanContext: ambient}))
		ctx, span = tr.tracer.Start(extracted, d.processName, opts...)
	default:
		ctx, span = tr.tracer.Start(extracted, d.processName, d.processStart...)
	}
	if span.IsRecording() {
		if messageID != "" {
			span.SetAttributes(messageIDAttribute(messageID))
		}
		if in.cfg.RecordBodySize {
			span.SetAttributes(bodySizeAttribute(bodySize))
		}
	}
	in.metrics.recordConsumed(ctx, d)
	return ctx, Process{in: in, d: d, ctx: ctx, span: span, start: start}
}

// startLinked starts the process span in the consumer's own trace, keeping
// the baggage the producer sent, with a link to the producer's span.
func startLinked(tracer trace.Tracer, extracted context.Context, d *Destination, ambient, remote trace.SpanContext) (context.Context, trace.Span) {
	opts := append(d.processStart[:len(d.processStart):len(d.processStart)], trace.WithLinks(trace.Link{SpanContext: remote}))
	if ambient.IsValid() {
		return tracer.Start(trace.ContextWithSpanContext(extracted, ambient), d.processName, opts...)
	}
	return tracer.Start(extracted, d.processName, append(opts, trace.WithNewRoot())...)
}

// Context is the context that carries the process span.
func (p Process) Context() context.Context {
	if p.ctx == nil {
		return context.Background()
	}
	return p.ctx
}

// Span is the process span (a no-op span for the zero Process or with
// tracing off).
func (p Process) Span() trace.Span {
	if p.span == nil {
		return noopSpan
	}
	return p.span
}

// End records how the message was settled and the handler's error, if any,
// ends the span and records the process metrics. Call it exactly once.
func (p Process) End(s Settlement, err error) {
	if p.in == nil {
		return
	}
	if p.span.IsRecording() {
		if s != SettleNone {
			endAttributes(p.span, "", err, SettlementKey.String(s.String()))
		} else {
			endAttributes(p.span, "", err)
		}
	}
	p.span.End()
	p.in.metrics.recordProcess(p.ctx, p.d, p.start, err)
}

// RecordReceive records the duration of a receive call (a Receive that
// waited for a message) in messaging.client.operation.duration.
func (in *Instrumenter) RecordReceive(ctx context.Context, d *Destination, start time.Time, err error) {
	in.metrics.recordReceive(ctx, d, start, err)
}

// RecordSettle records the duration of a settle call (ack, nack, ...) in
// messaging.client.operation.duration.
func (in *Instrumenter) RecordSettle(ctx context.Context, d *Destination, s Settlement, start time.Time, err error) {
	in.metrics.recordSettle(ctx, d, s, start, err)
}
