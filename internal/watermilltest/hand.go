package watermilltest

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// PublishFunc is a publisher made of one function.
type PublishFunc func(topic string, msgs ...*message.Message) error

// Publish calls f.
func (f PublishFunc) Publish(topic string, msgs ...*message.Message) error { return f(topic, msgs...) }

// Close does nothing.
func (PublishFunc) Close() error { return nil }

// Hand is the send and process tracing of watermilltrace written without
// it, the reference its benchmarks compare with: the same W3C propagator,
// and spans with the library's names, kinds and start attributes (recorded
// once from the library), the message id and the outcome.
type Hand struct {
	tracer          trace.Tracer
	sendName        string
	processName     string
	sendOpts, pOpts []trace.SpanStartOption
}

// NewHand records one send and one process span of the library, made with
// the options opts gives for a tracer provider, and returns the
// hand-written tracing that starts the same spans with tp.
func NewHand(tb testing.TB, tp trace.TracerProvider, opts func(trace.TracerProvider) []asynctrace.Option) *Hand {
	tb.Helper()
	nop := PublishFunc(func(string, ...*message.Message) error { return nil })
	spans := benchcpu.Record(2, func(rtp trace.TracerProvider) {
		if err := watermilltrace.WrapPublisher(nop, opts(rtp)...).Publish("bench", message.NewMessage("id", []byte("payload"))); err != nil {
			tb.Fatal(err)
		}
		in := message.NewMessage("id", []byte("payload"))
		in.Metadata = message.Metadata{"tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
		h := watermilltrace.NewMiddleware(opts(rtp)...)(func(*message.Message) ([]*message.Message, error) { return nil, nil })
		if _, err := h(in); err != nil {
			tb.Fatal(err)
		}
	})
	if len(spans) != 2 {
		tb.Fatalf("the library recorded %d spans, want 2", len(spans))
	}
	id := semconv.MessagingMessageIDKey
	return &Hand{
		tracer:   tp.Tracer("watermill"),
		sendName: spans[0].Name, processName: spans[1].Name,
		sendOpts: spans[0].Options(id), pOpts: spans[1].Options(id),
	}
}

// Publisher traces pub by hand.
func (h *Hand) Publisher(pub message.Publisher) message.Publisher {
	return PublishFunc(func(topic string, msgs ...*message.Message) error {
		spans := make([]trace.Span, len(msgs))
		for i, msg := range msgs {
			var ctx context.Context
			ctx, spans[i] = h.tracer.Start(msg.Context(), h.sendName, h.sendOpts...)
			md := make(message.Metadata, len(msg.Metadata)+2)
			for k, v := range msg.Metadata {
				md[k] = v
			}
			telemetrytest.W3C.Inject(ctx, propagation.MapCarrier(md))
			msg.Metadata = md
		}
		err := pub.Publish(topic, msgs...)
		for i, span := range spans {
			span.SetAttributes(semconv.MessagingMessageID(msgs[i].UUID))
			end(span, err)
		}
		return err
	})
}

// Middleware traces a handler by hand. Like the library's middleware, it
// records no settlement: the router settles after the handler returns.
func (h *Hand) Middleware(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := telemetrytest.W3C.Extract(msg.Context(), propagation.MapCarrier(msg.Metadata))
		ctx, span := h.tracer.Start(ctx, h.processName, h.pOpts...)
		span.SetAttributes(semconv.MessagingMessageID(msg.UUID))
		msg.SetContext(ctx)
		out, err := next(msg)
		end(span, err)
		return out, err
	}
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
