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

// producerKey holds, with settle spans on, the span context the producer
// sent in the process context, for the settle span's link. Kept out of
// Process so that the default path carries nothing more per message.
type producerKey struct{}

func (p Process) producer() trace.SpanContext {
	if p.ctx == nil {
		return trace.SpanContext{}
	}
	sc, _ := p.ctx.Value(producerKey{}).(trace.SpanContext)
	return sc
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
	return in.StartProcessAt(ctx, d, props, messageID, bodySize, time.Time{})
}

// StartProcessAt is StartProcess for a message published at published (the
// zero time when unknown): with the link-after option, a message that
// waited longer than its threshold is linked to the producer's span as
// with LinkToProducer, and every message records its wait.
func (in *Instrumenter) StartProcessAt(ctx context.Context, d *Destination, props map[string]string, messageID string, bodySize int, published time.Time) (context.Context, Process) {
	var start time.Time
	if in.metrics.processDuration.Inst().Enabled(ctx) || (in.cfg.LinkAfter > 0 && !published.IsZero()) {
		start = time.Now() // only the duration metric and the wait read it
	}
	tr := in.tracers.get()
	if tr.off {
		ctx = in.extractor.Extract(ctx, props)
		in.metrics.recordConsumed(ctx, d)
		return ctx, Process{in: in, d: d, ctx: ctx, span: noopSpan, start: start}
	}
	ambient := trace.SpanContextFromContext(ctx)
	extracted := in.extractor.Extract(ctx, props)
	remote := trace.SpanContextFromContext(extracted)

	var wait time.Duration
	waited := in.cfg.LinkAfter > 0 && !published.IsZero()
	if waited {
		wait = start.Sub(published)
	}
	var span trace.Span
	switch {
	case !remote.IsValid() || remote.Equal(ambient):
		ctx, span = tr.tracer.Start(extracted, d.processName, d.processStart...)
	case in.cfg.LinkToProducer || (waited && wait > in.cfg.LinkAfter):
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
		if waited {
			span.SetAttributes(waitAttribute(wait.Seconds()))
		}
	}
	if in.cfg.SettleSpans && remote.IsValid() {
		ctx = context.WithValue(ctx, producerKey{}, remote)
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
	if p.in.settleObserved && (s == SettleAck || s == SettleNack) && p.in.cfg.SettleSpans {
		// The settlement already happened; its span marks the moment.
		p.in.settleSpan(p.d, s, time.Now(), nil, p)
	}
	if p.span.IsRecording() {
		if s != SettleNone && s < settlementCount {
			endAttributes(p.span, "", err, p.in.settleAttrs[s])
		} else {
			endAttributes(p.span, "", err)
		}
	}
	p.span.End()
	p.in.metrics.recordProcess(p.ctx, p.d, p.start, err)
}

// Now returns the time a receive or settle call starts, for RecordReceive,
// RecordSettle and the spans of those calls; the zero time, without
// reading the clock, when nothing will use it.
func (in *Instrumenter) Now(ctx context.Context) time.Time {
	if in.cfg.SettleSpans || in.cfg.ReceiveSpans || in.metrics.operationDuration.Inst().Enabled(ctx) {
		return time.Now()
	}
	return time.Time{}
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

// Settled records a settle call that began at start and returned err, for
// the messages of procs (none when the adapter does not know them): its
// duration in messaging.client.operation.duration and, with the settle-span
// option, a CLIENT span "<settlement> <destination>", a child of the last
// message's process span with a link to each message's producer. Call it
// before ending the processes, so that their spans still hold the
// settlement's parent open.
func (in *Instrumenter) Settled(d *Destination, s Settlement, start time.Time, err error, procs ...Process) {
	if in.cfg.SettleSpans {
		in.settleSpan(d, s, start, err, procs...)
	}
	ctx := context.Background()
	if n := len(procs); n > 0 {
		ctx = procs[n-1].Context()
	}
	in.metrics.recordSettle(ctx, d, s, start, err)
}

func (in *Instrumenter) settleSpan(d *Destination, s Settlement, start time.Time, err error, procs ...Process) {
	if s >= settlementCount || d.settleStart[s] == nil {
		return
	}
	tr := in.tracers.get()
	if tr.off {
		return
	}
	ctx := context.Background()
	if n := len(procs); n > 0 {
		ctx = procs[n-1].Context()
	}
	links := make([]trace.Link, 0, len(procs))
	for _, p := range procs {
		if sc := p.producer(); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	opts := append(d.settleStart[s][:len(d.settleStart[s]):len(d.settleStart[s])], trace.WithTimestamp(start), trace.WithLinks(links...))
	_, span := tr.tracer.Start(ctx, d.settleName[s], opts...)
	if span.IsRecording() {
		if len(procs) > 1 {
			span.SetAttributes(batchCountAttribute(len(procs)))
		}
		endAttributes(span, "", err)
	}
	span.End()
}

// ReceiveSpans reports whether the receive-span option is on: adapters hand
// Received the message's properties (and format its id) only then, so the
// default path does no extra work.
func (in *Instrumenter) ReceiveSpans() bool { return in.cfg.ReceiveSpans }

// Received records a pull that began at start and returned a message with
// the properties props (nil and err on failure): its duration in
// messaging.client.operation.duration and, with the receive-span option, a
// CLIENT span "receive <destination>", a child of ctx's span with a link to
// the producer's span. It returns ctx carrying that span, for StartProcess
// to link the process span to.
func (in *Instrumenter) Received(ctx context.Context, d *Destination, start time.Time, props map[string]string, messageID string, err error) context.Context {
	in.metrics.recordReceive(ctx, d, start, err)
	if !in.cfg.ReceiveSpans || d.receiveStart == nil {
		return ctx
	}
	tr := in.tracers.get()
	if tr.off {
		return ctx
	}
	opts := append(d.receiveStart[:len(d.receiveStart):len(d.receiveStart)], trace.WithTimestamp(start))
	if props != nil {
		if remote := trace.SpanContextFromContext(in.extractor.Extract(context.Background(), props)); remote.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote}))
		}
	}
	rctx, span := tr.tracer.Start(ctx, d.receiveName, opts...)
	if span.IsRecording() {
		endAttributes(span, messageID, err)
	}
	span.End()
	return rctx
}
