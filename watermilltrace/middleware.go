package watermilltrace

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// NewMiddleware returns a router middleware that continues the producer's trace
// in the handler. Add it with Router.AddMiddleware (first, so that the spans
// of the other middleware belong to the trace too).
//
// For each message it reads the trace context from the metadata and starts a
// CONSUMER span "process <topic>", named after the topic the handler
// subscribes to, with the handler's name in [HandlerNameKey]. The span is a
// child of the producer's send span, or, with asynctrace.WithLinkToProducer,
// starts in the consumer's own trace with a link to it. The message's context
// is replaced by one carrying the span, so spans the handler starts and HTTP
// calls it makes with msg.Context() join the trace. The span ends when the
// handler returns; an error it returns, or a panic, is recorded on it.
//
// Messages the handler returns continue the trace as well: a message without
// a span in its context gets the process span's context, and its metadata
// carries that context. The router publishes returned messages after the
// middleware has returned; with [NewPublisherDecorator] among the router's
// publisher decorators their send spans are children of the process span.
//
// A missing or malformed traceparent never fails a message: the span then
// starts a new trace and the handler runs as usual.
func NewMiddleware(opts ...asynctrace.Option) message.HandlerMiddleware {
	in, s := newInstrumenter("NewMiddleware", opts)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			return handle(in, s.consumerGroup, h, msg)
		}
	}
}

func handle(in *messaging.Instrumenter, group string, h message.HandlerFunc, msg *message.Message) (produced []*message.Message, err error) {
	if msg == nil {
		return h(msg)
	}
	ctx := msg.Context()
	d := in.Destination(message.SubscribeTopicFromCtx(ctx), "", group)
	ctx, proc := in.StartProcess(ctx, d, msg.Metadata, msg.UUID, len(msg.Payload))
	if span := proc.Span(); span.IsRecording() {
		if name := message.HandlerNameFromCtx(ctx); name != "" {
			span.SetAttributes(HandlerNameKey.String(name))
		}
	}
	msg.SetContext(ctx)

	// The router recovers a panic and nacks; the span must still end, or
	// it would never be exported.
	messaging.Guard(func() { produced, err = h(msg) }, func(abort error) { proc.End(settlementOf(msg), abort) })
	proc.End(settlementOf(msg), err)
	if err == nil {
		continueTrace(in, ctx, produced)
	}
	return produced, err
}

// settlementOf reports a settlement the handler made itself. The router acks
// or nacks only after the middleware chain returns, so usually none is known
// yet.
func settlementOf(msg *message.Message) messaging.Settlement {
	// Two single-case selects are non-blocking receives, much cheaper than
	// one select over both channels.
	select {
	case <-msg.Acked():
		return messaging.SettleAck
	default:
	}
	select {
	case <-msg.Nacked():
		return messaging.SettleNack
	default:
	}
	return messaging.SettleNone
}

// continueTrace gives the messages a handler returned the process span's
// context when they have no span of their own, and writes their context into
// their metadata, so that the trace goes on even if the router's publisher is
// not decorated. A decorated publisher replaces it with its send span.
func continueTrace(in *messaging.Instrumenter, procCtx context.Context, produced []*message.Message) {
	for _, m := range produced {
		if m == nil {
			continue
		}
		ctx := m.Context()
		if !trace.SpanContextFromContext(ctx).IsValid() {
			ctx = withTraceOf(ctx, procCtx)
			m.SetContext(ctx)
		}
		m.Metadata = in.Inject(ctx, m.Metadata)
	}
}

// withTraceOf returns ctx carrying the span and, unless ctx has its own, the
// baggage of procCtx. A message without a context of its own simply gets
// procCtx.
func withTraceOf(ctx, procCtx context.Context) context.Context {
	if ctx == context.Background() {
		return procCtx
	}
	ctx = trace.ContextWithSpan(ctx, trace.SpanFromContext(procCtx))
	if baggage.FromContext(ctx).Len() == 0 {
		if b := baggage.FromContext(procCtx); b.Len() > 0 {
			ctx = baggage.ContextWithBaggage(ctx, b)
		}
	}
	return ctx
}
