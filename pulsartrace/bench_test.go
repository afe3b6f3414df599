package pulsartrace

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/benchcpu"
	"github.com/asynctrace/asynctrace/internal/messaging"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// The benchmarks compare the client's own producer and consumer ("raw")
// with wrapped ones under three telemetry setups:
//
//	disabled: no-op tracer and meter providers (what a service without an
//	          OpenTelemetry SDK gets)
//	sampled:  the SDK tracer provider sampling every span, with no span
//	          processor, and the no-op meter provider
//	metrics:  sampled plus the SDK meter provider with a manual reader
type setup struct {
	name string
	opts func(b *testing.B) []asynctrace.Option
}

var setups = []setup{
	{"disabled", func(*testing.B) []asynctrace.Option {
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
	{"sampled", func(b *testing.B) []asynctrace.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
	{"metrics", func(b *testing.B) []asynctrace.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
		return []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(mp),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}
	}},
}

// nullProducer is a pulsar.Producer that does nothing, so that the
// benchmarks over it measure the wrapper alone.
type nullProducer struct{ id pulsar.MessageID }

func (nullProducer) Topic() string                      { return "orders" }
func (nullProducer) Name() string                       { return "null" }
func (nullProducer) LastSequenceID() int64              { return 0 }
func (nullProducer) Flush() error                       { return nil }
func (nullProducer) FlushWithCtx(context.Context) error { return nil }
func (nullProducer) Close()                             {}
func (p nullProducer) Send(context.Context, *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	return p.id, nil
}
func (p nullProducer) SendAsync(_ context.Context, m *pulsar.ProducerMessage, cb func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
	cb(p.id, m, nil)
}

// nullConsumer is a pulsar.Consumer whose Receive returns the same message
// at once and whose settlements do nothing.
type nullConsumer struct {
	pulsar.Consumer // methods the benchmarks do not call
	msg             pulsar.Message
}

func (c *nullConsumer) Subscription() string                            { return "sub" }
func (c *nullConsumer) Name() string                                    { return "null" }
func (c *nullConsumer) Receive(context.Context) (pulsar.Message, error) { return c.msg, nil }
func (c *nullConsumer) Ack(pulsar.Message) error                        { return nil }
func (c *nullConsumer) Close()                                          {}

func benchMessage() *pulsar.ProducerMessage {
	return &pulsar.ProducerMessage{Payload: make([]byte, 256), Properties: map[string]string{"tenant": "acme", "kind": "order"}}
}

func BenchmarkFakeSend(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = raw.Send(ctx, msg)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			p := WrapProducer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Send(ctx, msg)
			}
		})
	}
}

func BenchmarkFakeSendAsync(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	cb := func(pulsar.MessageID, *pulsar.ProducerMessage, error) {}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw.SendAsync(ctx, msg, cb)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			p := WrapProducer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				p.SendAsync(ctx, msg, cb)
			}
		})
	}
}

func BenchmarkFakeReceiveAck(b *testing.B) {
	props := map[string]string{"tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	raw := &nullConsumer{msg: &fakeMessage{topic: "persistent://public/default/orders", props: props, payload: make([]byte, 256), id: pulsar.NewMessageID(1, 2, -1, 0)}}
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _ := raw.Receive(ctx)
			_ = raw.Ack(m)
		}
	})
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			c := WrapConsumer(raw, s.opts(b)...)
			b.ReportAllocs()
			for b.Loop() {
				m, _ := c.Receive(ctx)
				_ = c.Ack(m)
			}
		})
	}
}

// benchClient starts pulsartest (or uses $PULSAR_URL) for a benchmark.
func benchClient(b *testing.B) (pulsar.Client, string) {
	br := newBroker(b)
	return br.client(b), topic(b)
}

func BenchmarkBrokerSend(b *testing.B) {
	msg := benchMessage()
	ctx := context.Background()
	run := func(b *testing.B, wrap func(pulsar.Producer) pulsar.Producer) {
		client, name := benchClient(b)
		p := wrap(createProducer(b, client, pulsar.ProducerOptions{Topic: name, DisableBatching: true}))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, func(p pulsar.Producer) pulsar.Producer { return p }) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := s.opts(b)
			run(b, func(p pulsar.Producer) pulsar.Producer { return WrapProducer(p, opts...) })
		})
	}
}

func BenchmarkBrokerSendAsync(b *testing.B) {
	msg := benchMessage()
	ctx := context.Background()
	run := func(b *testing.B, wrap func(pulsar.Producer) pulsar.Producer) {
		client, name := benchClient(b)
		p := wrap(createProducer(b, client, pulsar.ProducerOptions{Topic: name, MaxPendingMessages: 10000}))
		cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			if err != nil {
				b.Error(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			p.SendAsync(ctx, msg, cb)
		}
		if err := p.FlushWithCtx(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, func(p pulsar.Producer) pulsar.Producer { return p }) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := s.opts(b)
			run(b, func(p pulsar.Producer) pulsar.Producer { return WrapProducer(p, opts...) })
		})
	}
}

// BenchmarkBrokerEndToEnd sends b.N messages with SendAsync (batching on)
// and receives and acknowledges them all, reporting messages per second
// from the first send to the last ack.
func BenchmarkBrokerEndToEnd(b *testing.B) {
	run := func(b *testing.B, opts []asynctrace.Option, traced bool) {
		client, name := benchClient(b)
		var c pulsar.Consumer = subscribe(b, client, pulsar.ConsumerOptions{Topic: name, ReceiverQueueSize: 1000})
		var p pulsar.Producer = createProducer(b, client, pulsar.ProducerOptions{Topic: name, MaxPendingMessages: 10000})
		if traced {
			c = WrapConsumer(c, opts...)
			p = WrapProducer(p, opts...)
		}
		msg := benchMessage()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			if err != nil {
				b.Error(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			for i := 0; i < b.N; i++ {
				m, err := c.Receive(ctx)
				if err != nil {
					done <- err
					return
				}
				if err := c.Ack(m); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i := 0; i < b.N; i++ {
			p.SendAsync(ctx, msg, cb)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		if traced {
			c.Close()
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, nil, false) })
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) { run(b, s.opts(b), true) })
	}
}

// The A/B pairs below (BenchmarkAB*/lib against BenchmarkAB*/hand, or
// /disabled against /raw) are what internal/cmd/benchab runs interleaved
// and compares by CPU per operation. "hand" is the same tracing written
// without the library, with the same SDK: a copy of the properties under
// a propagation.MapCarrier, the same W3C propagator's Inject or Extract,
// tracer.Start with the library's span name, kind and attributes (copied
// from a recorded library span), the outcome attributes, span.End.

// abSampled is the telemetry both sides of a pair use: every span sampled,
// no span processor, no metrics.
func abSampled(b *testing.B) (*sdktrace.TracerProvider, []asynctrace.Option) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, []asynctrace.Option{
		asynctrace.WithTracerProvider(tp),
		asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
		asynctrace.WithPropagators(telemetrytest.W3C),
	}
}

var abDisabled = []asynctrace.Option{
	asynctrace.WithTracerProvider(tracenoop.NewTracerProvider()),
	asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
	asynctrace.WithPropagators(telemetrytest.W3C),
}

const abTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func abMessage() *fakeMessage {
	return &fakeMessage{
		topic:   "persistent://public/default/orders",
		props:   map[string]string{"tenant": "acme", "traceparent": abTraceparent},
		payload: make([]byte, 256),
		id:      pulsar.NewMessageID(1, 2, -1, 0),
	}
}

// librarySpans records the spans the library makes for one run of f.
func librarySpans(b *testing.B, f func(opts []asynctrace.Option)) []benchcpu.Span {
	spans := benchcpu.Record(1, func(tp trace.TracerProvider) {
		f([]asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		})
	})
	if len(spans) == 0 {
		b.Fatal("the library recorded no span")
	}
	return spans
}

var messageIDKey = semconv.MessagingMessageIDKey

// handSender is hand-written send tracing over a pulsar.Producer.
type handSender struct {
	p      pulsar.Producer
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	name   string
	opts   []trace.SpanStartOption
}

func newHandSender(b *testing.B, p pulsar.Producer, tp trace.TracerProvider) *handSender {
	spans := librarySpans(b, func(opts []asynctrace.Option) {
		_, _ = WrapProducer(p, opts...).Send(context.Background(), benchMessage())
	})
	s := spans[0]
	return &handSender{p: p, tracer: tp.Tracer("orders"), prop: telemetrytest.W3C, name: s.Name, opts: s.Options(messageIDKey)}
}

func (h *handSender) start(ctx context.Context, msg *pulsar.ProducerMessage) (context.Context, trace.Span, *pulsar.ProducerMessage) {
	ctx, span := h.tracer.Start(ctx, h.name, h.opts...)
	props := make(map[string]string, len(msg.Properties)+2)
	for k, v := range msg.Properties {
		props[k] = v
	}
	h.prop.Inject(ctx, propagation.MapCarrier(props))
	m := *msg
	m.Properties = props
	return ctx, span, &m
}

func handEnd(span trace.Span, id pulsar.MessageID, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetAttributes(semconv.MessagingMessageID(id.String()))
	}
	span.End()
}

func (h *handSender) Send(ctx context.Context, msg *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	ctx, span, m := h.start(ctx, msg)
	id, err := h.p.Send(ctx, m)
	handEnd(span, id, err)
	return id, err
}

func (h *handSender) SendAsync(ctx context.Context, msg *pulsar.ProducerMessage, cb func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
	ctx, span, m := h.start(ctx, msg)
	h.p.SendAsync(ctx, m, func(id pulsar.MessageID, m *pulsar.ProducerMessage, err error) {
		handEnd(span, id, err)
		cb(id, msg, err)
	})
}

// handReceiver is hand-written process tracing: extract from the
// properties, start the CONSUMER span, settle, record the settlement, end.
type handReceiver struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	name   string
	opts   []trace.SpanStartOption
}

func newHandReceiver(b *testing.B, c pulsar.Consumer, tp trace.TracerProvider) *handReceiver {
	spans := librarySpans(b, func(opts []asynctrace.Option) {
		w := WrapConsumer(c, opts...)
		m, err := w.Receive(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		_ = w.Ack(m)
	})
	s := spans[len(spans)-1]
	return &handReceiver{tracer: tp.Tracer("orders"), prop: telemetrytest.W3C, name: s.Name, opts: s.Options(messaging.SettlementKey, messageIDKey)}
}

func (h *handReceiver) start(ctx context.Context, msg pulsar.Message) (context.Context, trace.Span) {
	ctx = h.prop.Extract(ctx, propagation.MapCarrier(msg.Properties()))
	ctx, span := h.tracer.Start(ctx, h.name, h.opts...)
	span.SetAttributes(semconv.MessagingMessageID(msg.ID().String()))
	return ctx, span
}

func handSettle(span trace.Span, settlement string, err error) {
	span.SetAttributes(messaging.PulsarAcknowledgmentTypeKey.String(settlement))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func BenchmarkABSend(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) {
		p := WrapProducer(raw, opts...)
		m := benchcpu.Start(b)
		for b.Loop() {
			_, _ = p.Send(ctx, msg)
		}
		m.Stop()
	})
	b.Run("hand", func(b *testing.B) {
		h := newHandSender(b, raw, tp)
		m := benchcpu.Start(b)
		for b.Loop() {
			_, _ = h.Send(ctx, msg)
		}
		m.Stop()
	})
}

func BenchmarkABSendAsync(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	cb := func(pulsar.MessageID, *pulsar.ProducerMessage, error) {}
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) {
		p := WrapProducer(raw, opts...)
		m := benchcpu.Start(b)
		for b.Loop() {
			p.SendAsync(ctx, msg, cb)
		}
		m.Stop()
	})
	b.Run("hand", func(b *testing.B) {
		h := newHandSender(b, raw, tp)
		m := benchcpu.Start(b)
		for b.Loop() {
			h.SendAsync(ctx, msg, cb)
		}
		m.Stop()
	})
}

// The disabled pairs: the library with the no-op tracer provider (what
// OTEL_SDK_DISABLED installs) against the undecorated producer.
func BenchmarkABSendDisabled(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	b.Run("lib", func(b *testing.B) {
		p := WrapProducer(raw, abDisabled...)
		m := benchcpu.Start(b)
		for b.Loop() {
			_, _ = p.Send(ctx, msg)
		}
		m.Stop()
	})
	b.Run("raw", func(b *testing.B) {
		var p pulsar.Producer = raw
		m := benchcpu.Start(b)
		for b.Loop() {
			_, _ = p.Send(ctx, msg)
		}
		m.Stop()
	})
}

func BenchmarkABSendAsyncDisabled(b *testing.B) {
	raw := nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}
	msg := benchMessage()
	ctx := context.Background()
	cb := func(pulsar.MessageID, *pulsar.ProducerMessage, error) {}
	b.Run("lib", func(b *testing.B) {
		p := WrapProducer(raw, abDisabled...)
		m := benchcpu.Start(b)
		for b.Loop() {
			p.SendAsync(ctx, msg, cb)
		}
		m.Stop()
	})
	b.Run("raw", func(b *testing.B) {
		var p pulsar.Producer = raw
		m := benchcpu.Start(b)
		for b.Loop() {
			p.SendAsync(ctx, msg, cb)
		}
		m.Stop()
	})
}

func BenchmarkABReceiveAck(b *testing.B) {
	raw := &nullConsumer{msg: abMessage()}
	ctx := context.Background()
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) {
		c := WrapConsumer(raw, opts...)
		m := benchcpu.Start(b)
		for b.Loop() {
			msg, _ := c.Receive(ctx)
			_ = c.Ack(msg)
		}
		m.Stop()
	})
	b.Run("hand", func(b *testing.B) {
		h := newHandReceiver(b, raw, tp)
		var c pulsar.Consumer = raw
		m := benchcpu.Start(b)
		for b.Loop() {
			msg, _ := c.Receive(ctx)
			_, span := h.start(ctx, msg)
			handSettle(span, "acknowledge", c.Ack(msg))
		}
		m.Stop()
	})
}

// errDrained ends Handle over a countedConsumer.
var errDrained = errors.New("drained")

// countedConsumer delivers its message n times, then fails with
// errDrained, which ends Handle.
type countedConsumer struct {
	nullConsumer
	n int
}

func (c *countedConsumer) Receive(context.Context) (pulsar.Message, error) {
	if c.n == 0 {
		return nil, errDrained
	}
	c.n--
	return c.msg, nil
}

func BenchmarkABHandle(b *testing.B) {
	ctx := context.Background()
	tp, opts := abSampled(b)
	handler := func(context.Context, pulsar.Message) error { return nil }
	b.Run("lib", func(b *testing.B) {
		raw := &countedConsumer{nullConsumer: nullConsumer{msg: abMessage()}}
		c := WrapConsumer(raw, opts...)
		m := benchcpu.Start(b)
		raw.n = b.N
		_ = Handle(ctx, c, handler)
		m.Stop()
	})
	b.Run("hand", func(b *testing.B) {
		raw := &countedConsumer{nullConsumer: nullConsumer{msg: abMessage()}}
		h := newHandReceiver(b, &nullConsumer{msg: abMessage()}, tp)
		m := benchcpu.Start(b)
		raw.n = b.N
		for {
			msg, err := raw.Receive(ctx)
			if err != nil {
				break
			}
			hctx, span := h.start(ctx, msg)
			if err := handler(hctx, msg); err != nil {
				raw.Nack(msg)
				handSettle(span, "negative_acknowledge", err)
				continue
			}
			handSettle(span, "acknowledge", raw.Ack(msg))
		}
		m.Stop()
	})
}

func (c *nullConsumer) Nack(pulsar.Message) {}

type (
	abSendFunc  = func(context.Context, *pulsar.ProducerMessage, func(pulsar.MessageID, *pulsar.ProducerMessage, error))
	abSendMaker = func(pulsar.Producer) abSendFunc
	abRecvMaker = func(pulsar.Consumer) func(context.Context) error
)

// abPipe is BenchmarkBrokerEndToEnd's loop, the real client over
// pulsartest: b.N messages sent with SendAsync (batching on) while one
// goroutine receives and acks them. flush, if not nil, runs inside the
// measurement after the last ack (to export what is still batched).
func abPipe(b *testing.B, send abSendMaker, recv abRecvMaker, flush func()) {
	client, name := benchClient(b)
	c := subscribe(b, client, pulsar.ConsumerOptions{Topic: name, ReceiverQueueSize: 1000})
	p := createProducer(b, client, pulsar.ProducerOptions{Topic: name, MaxPendingMessages: 10000})
	sendOne, recvOne := send(p), recv(c)
	msg := benchMessage()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
		if err != nil {
			b.Error(err)
		}
	}
	b.ResetTimer()
	m := benchcpu.Start(b)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			if err := recvOne(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		sendOne(ctx, msg, cb)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if flush != nil {
		flush()
	}
	m.Stop()
	b.StopTimer()
}

func abLibSend(opts []asynctrace.Option) abSendMaker {
	return func(p pulsar.Producer) abSendFunc { return WrapProducer(p, opts...).SendAsync }
}

func abLibRecv(opts []asynctrace.Option) abRecvMaker {
	return func(c pulsar.Consumer) func(context.Context) error {
		w := WrapConsumer(c, opts...)
		return func(ctx context.Context) error {
			msg, err := w.Receive(ctx)
			if err != nil {
				return err
			}
			return w.Ack(msg)
		}
	}
}

func abHandSend(b *testing.B, tp trace.TracerProvider) abSendMaker {
	h := newHandSender(b, nullProducer{id: pulsar.NewMessageID(1, 2, -1, 0)}, tp)
	return func(p pulsar.Producer) abSendFunc { return h.withProducer(p).SendAsync }
}

func abHandRecv(b *testing.B, tp trace.TracerProvider) abRecvMaker {
	h := newHandReceiver(b, &nullConsumer{msg: abMessage()}, tp)
	return func(c pulsar.Consumer) func(context.Context) error {
		return func(ctx context.Context) error {
			msg, err := c.Receive(ctx)
			if err != nil {
				return err
			}
			_, span := h.start(ctx, msg)
			err = c.Ack(msg)
			handSettle(span, "acknowledge", err)
			return err
		}
	}
}

// abRawSend and abRawRecv are the untraced client; with a tracer they also
// start and end one bare span each per message (the SDK floor).
func abRawSend(tr trace.Tracer) abSendMaker {
	return func(p pulsar.Producer) abSendFunc {
		return func(ctx context.Context, msg *pulsar.ProducerMessage, cb func(pulsar.MessageID, *pulsar.ProducerMessage, error)) {
			if tr != nil {
				_, span := tr.Start(ctx, "send")
				span.End()
			}
			p.SendAsync(ctx, msg, cb)
		}
	}
}

func abRawRecv(tr trace.Tracer) abRecvMaker {
	return func(c pulsar.Consumer) func(context.Context) error {
		return func(ctx context.Context) error {
			msg, err := c.Receive(ctx)
			if err != nil {
				return err
			}
			if tr != nil {
				_, span := tr.Start(ctx, "process")
				span.End()
			}
			return c.Ack(msg)
		}
	}
}

// BenchmarkABEndToEnd compares the library and hand-written tracing over
// the real client and pulsartest, spans sampled and not exported.
func BenchmarkABEndToEnd(b *testing.B) {
	tp, opts := abSampled(b)
	b.Run("lib", func(b *testing.B) { abPipe(b, abLibSend(opts), abLibRecv(opts), nil) })
	b.Run("hand", func(b *testing.B) { abPipe(b, abHandSend(b, tp), abHandRecv(b, tp), nil) })
}

// BenchmarkABExport is BenchmarkABEndToEnd with the spans batch-exported
// over OTLP/HTTP to the receiver at $ASYNCTRACE_BENCH_OTLP (run by
// internal/cmd/benchab in a process of its own); floor is the untraced
// loop plus two bare SDK spans per message, sampled and not exported.
func BenchmarkABExport(b *testing.B) {
	endpoint := os.Getenv("ASYNCTRACE_BENCH_OTLP")
	if endpoint == "" {
		b.Skip("ASYNCTRACE_BENCH_OTLP is not set: run through go run ./internal/cmd/benchab")
	}
	exporting := func(b *testing.B) (*sdktrace.TracerProvider, []asynctrace.Option, func()) {
		u, err := url.Parse(endpoint)
		if err != nil {
			b.Fatal(err)
		}
		// Its own transport, whose keep-alive connections the cleanup
		// closes, so that the goroutine-leak check passes.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithInsecure(),
			otlptracehttp.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exp))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			tr.CloseIdleConnections()
		})
		flush := func() {
			if err := tp.ForceFlush(context.Background()); err != nil {
				b.Error(err)
			}
		}
		return tp, []asynctrace.Option{
			asynctrace.WithTracerProvider(tp),
			asynctrace.WithMeterProvider(metricnoop.NewMeterProvider()),
			asynctrace.WithPropagators(telemetrytest.W3C),
		}, flush
	}
	b.Run("untraced", func(b *testing.B) { abPipe(b, abRawSend(nil), abRawRecv(nil), nil) })
	b.Run("lib", func(b *testing.B) {
		_, opts, flush := exporting(b)
		abPipe(b, abLibSend(opts), abLibRecv(opts), flush)
	})
	b.Run("hand", func(b *testing.B) {
		tp, _, flush := exporting(b)
		abPipe(b, abHandSend(b, tp), abHandRecv(b, tp), flush)
	})
	b.Run("floor", func(b *testing.B) {
		tp, _ := abSampled(b)
		tr := tp.Tracer("floor")
		abPipe(b, abRawSend(tr), abRawRecv(tr), nil)
	})
}

// withProducer is h sending through p (its span names and attributes
// were taken with the null producer, whose topic is the same kind).
func (h *handSender) withProducer(p pulsar.Producer) *handSender {
	c := *h
	c.p = p
	return &c
}
