package tracecheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// hopWorld is two services, a gateway and a worker, each with its own
// tracer provider recording into one Recorder, and a broker hop between
// them that carries the trace context in message properties through the
// W3C propagator, as asynctrace's adapters do.
type hopWorld struct {
	rec              *Recorder
	gateway, worker  trace.Tracer
	providers        []*sdktrace.TracerProvider
	propagator       propagation.TextMapPropagator
	gatewayProcessor sdktrace.SpanProcessor
}

func newHopWorld(t *testing.T, opts ...sdktrace.TracerProviderOption) *hopWorld {
	t.Helper()
	w := &hopWorld{rec: NewRecorder(), propagator: propagation.TraceContext{}}
	provider := func(service string, processor sdktrace.SpanProcessor) trace.Tracer {
		tp := sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{
			sdktrace.WithSpanProcessor(processor),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
		}, opts...)...)
		w.providers = append(w.providers, tp)
		return tp.Tracer("tracecheck-test")
	}
	w.gatewayProcessor = w.rec
	w.gateway = provider("gateway", sdktrace.SpanProcessor(&switchable{next: w.rec, on: func() bool { return w.gatewayProcessor != nil }}))
	w.worker = provider("worker", w.rec)
	t.Cleanup(func() {
		for _, tp := range w.providers {
			_ = tp.Shutdown(context.Background())
		}
	})
	return w
}

// switchable forwards ended spans while on reports true, so a test can
// lose the spans of one service as a backend would.
type switchable struct {
	next sdktrace.SpanProcessor
	on   func() bool
}

func (s *switchable) OnStart(ctx context.Context, sp sdktrace.ReadWriteSpan) { s.next.OnStart(ctx, sp) }
func (s *switchable) OnEnd(sp sdktrace.ReadOnlySpan) {
	if s.on() {
		s.next.OnEnd(sp)
	}
}
func (s *switchable) Shutdown(ctx context.Context) error   { return s.next.Shutdown(ctx) }
func (s *switchable) ForceFlush(ctx context.Context) error { return s.next.ForceFlush(ctx) }

type hop struct {
	// lose drops the context on the way (a broken hop).
	lose bool
	// link makes the consumer start a trace of its own linked to the producer.
	link bool
	// between adds a span of the worker between the hop and the process span.
	between bool
	// workerService, when set, names the process span's tracer: "gateway"
	// runs the consumer in the wrong service.
	consumerInGateway bool
}

// request runs gateway:POST /v1/process > gateway:send jobs >
// worker:process jobs > worker:UPDATE jobs through one hop and returns the
// trace id of the request.
func (w *hopWorld) request(ctx context.Context, h hop) string {
	ctx, server := w.gateway.Start(ctx, "POST /v1/process", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 202)))
	sendCtx, send := w.gateway.Start(ctx, "send jobs", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "pulsar"), attribute.String("messaging.message.id", "7:1")))
	props := map[string]string{}
	if !h.lose {
		w.propagator.Inject(sendCtx, propagation.MapCarrier(props))
	}
	send.End()
	server.End()

	// The worker's side of the broker.
	consumer := w.worker
	if h.consumerInGateway {
		consumer = w.gateway
	}
	remote := w.propagator.Extract(context.Background(), propagation.MapCarrier(props))
	pctx := remote
	if h.between {
		var recv trace.Span
		pctx, recv = consumer.Start(remote, "receive jobs", trace.WithSpanKind(trace.SpanKindInternal))
		defer recv.End()
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "pulsar"))}
	if h.link {
		opts = append(opts, trace.WithNewRoot(), trace.WithLinks(trace.Link{SpanContext: trace.SpanContextFromContext(remote)}))
	}
	pctx, process := consumer.Start(pctx, "process jobs", opts...)
	_, db := consumer.Start(pctx, "UPDATE jobs", trace.WithSpanKind(trace.SpanKindClient))
	db.End()
	process.End()
	return server.SpanContext().TraceID().String()
}

const hopChain = "gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer) > worker:UPDATE jobs (client)"

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Check = %v, want a *MismatchError", err)
	}
	return me.Problems
}

func hasProblem(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func TestCheckSDKSpans(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		hop    hop
		expect string
		// want lists the prefixes of problems expected; none means a match.
		want []string
		// loseGateway drops the gateway's spans, as a backend that never got them.
		loseGateway bool
	}{
		{name: "intact", expect: hopChain},
		{name: "intact with attributes",
			expect: "gateway:POST /v1/process (server) {http.request.method=POST, http.response.status_code=202} > " +
				"gateway:send jobs (producer) {messaging.system=pulsar, messaging.message.id} > worker:process jobs > worker:UPDATE jobs"},
		{name: "wrong attribute value", expect: strings.Replace(hopChain, "gateway:send jobs (producer)", "gateway:send jobs (producer) {messaging.system=kafka, messaging.destination.name}", 1),
			want: []string{`attribute: gateway "send jobs", span `, `attribute: gateway "send jobs", span `}},
		{name: "broken chain", hop: hop{lose: true}, expect: hopChain,
			want: []string{"trace ids: want 1, found 2", "roots: want exactly 1, found 2", `wrong parent: worker "process jobs"`}},
		{name: "orphan", loseGateway: true, expect: hopChain,
			want: []string{`orphan: worker "process jobs"`, "roots: want exactly 1, found 0", `missing: gateway "POST /v1/process"`, `missing: gateway "send jobs"`, `wrong parent: worker "process jobs"`}},
		{name: "wrong service", hop: hop{consumerInGateway: true}, expect: hopChain,
			want: []string{`missing: worker "process jobs"`, `missing: worker "UPDATE jobs"`, `unexpected: gateway "process jobs"`, `unexpected: gateway "UPDATE jobs"`}},
		{name: "expected services", expect: hopChain + "; ...", hop: hop{}},
		{name: "extra span not allowed", hop: hop{between: true}, expect: hopChain,
			want: []string{`wrong parent: worker "process jobs"`, `unexpected: worker "receive jobs"`}},
		{name: "extra span allowed between", hop: hop{between: true},
			expect: "gateway:POST /v1/process > gateway:send jobs >> worker:process jobs > worker:UPDATE jobs"},
		{name: "extra span allowed between, dots", hop: hop{between: true},
			expect: "gateway:POST /v1/process > gateway:send jobs > ... > worker:process jobs > worker:UPDATE jobs"},
		{name: "extra span allowed anywhere", hop: hop{between: true},
			expect: "gateway:POST /v1/process > gateway:send jobs; ..."},
		{name: "indirect accepts a direct parent too", hop: hop{between: true},
			expect: "gateway:POST /v1/process > gateway:send jobs >> worker:process jobs >> worker:UPDATE jobs"},
		{name: "link to producer", hop: hop{link: true},
			expect: "gateway:POST /v1/process > gateway:send jobs ~> worker:process jobs (consumer) > worker:UPDATE jobs"},
		{name: "link expected, child found", hop: hop{},
			expect: "gateway:POST /v1/process > gateway:send jobs ~> worker:process jobs (consumer) > worker:UPDATE jobs",
			want:   []string{"trace ids: want 2, found 1", "roots: want exactly 2, found 1", `wrong parent: worker "process jobs"`, `link: worker "process jobs"`}},
		{name: "child expected, link found", hop: hop{link: true}, expect: hopChain,
			want: []string{"trace ids: want 1, found 2", "roots: want exactly 1, found 2", `wrong parent: worker "process jobs"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newHopWorld(t)
			if c.loseGateway {
				w.gatewayProcessor = nil
			}
			id := w.request(ctx, c.hop)
			want := MustParse(c.expect)
			spans := w.rec.Spans()
			if c.name == "expected services" {
				want.Services = []string{"gateway", "worker"}
				if err := Check(spans, want); err != nil {
					t.Fatalf("Check:\n%v", err)
				}
				want.Services = []string{"gateway", "billing"}
				problems := problemsOf(t, Check(spans, want))
				if len(problems) != 2 || problems[0] != "service: billing: no spans" || problems[1] != "service: worker: not expected, found 2 spans" {
					t.Fatalf("problems = %q", problems)
				}
				return
			}
			if !c.hop.link && !c.hop.lose {
				want.TraceID = id
			}
			err := Check(spans, want)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("Check:\n%v", err)
				}
				return
			}
			problems := problemsOf(t, err)
			for _, p := range c.want {
				if !hasProblem(problems, p) {
					t.Errorf("no problem starting %q", p)
				}
			}
			if len(problems) != len(c.want) {
				t.Errorf("%d problems, want %d", len(problems), len(c.want))
			}
			if t.Failed() {
				t.Logf("error:\n%v", err)
			}
		})
	}
}

func TestCheckWrongTraceID(t *testing.T) {
	w := newHopWorld(t)
	w.request(context.Background(), hop{})
	want := MustParse(hopChain)
	want.TraceID = "0af7651916cd43dd8448eb211c80319c"
	problems := problemsOf(t, Check(w.rec.Spans(), want))
	if !hasProblem(problems, "trace id: want 0af7651916cd43dd8448eb211c80319c, found ") ||
		!hasProblem(problems, `wrong trace: gateway "POST /v1/process"`) || len(problems) != 2 {
		t.Errorf("problems = %q", problems)
	}
}

func TestCheckSampledOut(t *testing.T) {
	ctx := context.Background()
	// The gateway receives a request whose caller did not sample it.
	unsampled := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{0, 0xf0, 1}, Remote: true}))
	w := newHopWorld(t, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	w.request(unsampled, hop{})
	if err := Check(w.rec.Spans(), Nothing()); err != nil {
		t.Fatalf("unsampled request left spans:\n%v", err)
	}
	// A hop that loses the sampled flag starts a sampled trace: Nothing sees it.
	w.request(unsampled, hop{lose: true})
	err := Check(w.rec.Spans(), Nothing())
	problems := problemsOf(t, err)
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "want no spans (request not sampled), found 2 in 1 trace: ") {
		t.Errorf("problems = %q", problems)
	}
	if !strings.Contains(err.Error(), "expected:\n  nothing\nfound:\n  trace ") || !strings.Contains(err.Error(), "process jobs") {
		t.Errorf("message:\n%v", err)
	}
}

// fakeTB records failures of Assert without failing the real test.
type fakeTB struct {
	testing.TB
	msgs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func TestAssert(t *testing.T) {
	w := newHopWorld(t)
	w.request(context.Background(), hop{lose: true})
	tb := &fakeTB{TB: t}
	if Assert(tb, w.rec.Spans(), MustParse(hopChain)) {
		t.Fatal("Assert accepted a broken chain")
	}
	if len(tb.msgs) != 1 {
		t.Fatalf("Assert reported %d messages", len(tb.msgs))
	}
	msg := tb.msgs[0]
	for _, part := range []string{
		"trace does not match the expectation (3 problems):",
		"  ok       gateway:POST /v1/process (server)\n",
		"  WRONG        > worker:process jobs (consumer)\n",
		"found:\n  trace ",
		"`- UPDATE jobs  worker   client",
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("message lacks %q:\n%s", part, msg)
		}
	}
	tb.msgs = nil
	w.rec.Reset()
	w.request(context.Background(), hop{})
	if !Assert(tb, w.rec.Spans(), MustParse(hopChain)) || len(tb.msgs) != 0 {
		t.Errorf("Assert failed an intact chain: %q", tb.msgs)
	}
}
