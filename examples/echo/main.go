// Command echo is a traced system in miniature. A gateway forwards
// POST /v1/process to an Echo service with the traceparent of its own
// span, as APISIX or Envoy do; the service publishes the job to Pulsar and
// answers 202; a worker consumes the job and finishes it. All of it is one
// trace, printed at the end:
//
//	gateway POST /v1/process              gateway  server
//	`- POST                               gateway  client
//	   `- POST /v1/process                api      server
//	      `- send jobs                    api      producer
//	         `- process jobs              worker   consumer
//	            `- finish job             worker   internal
//
// The service starts its spans with echoTracing, the Echo recipe of
// package httptrace: route-named spans, the status Echo's error handler
// writes, no spans for health probes, and the traceresponse header.
//
// It runs an in-process broker (pulsartrace/pulsartest) unless PULSAR_URL
// names a real one, and exports the spans over OTLP too when
// OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
//	go run ./examples/echo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/provider"
	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
	"github.com/asynctrace/asynctrace/tracecheck"
)

const topic = "jobs"

// echoTracing is the Echo recipe: httptrace's middleware as a native Echo
// middleware. It hands the matched route to the span through the
// request's Pattern, and passes an error returned further down to Echo's
// HTTPErrorHandler itself, so that the response (400, 404, 500) is written
// while the span is still open and the span records the real status.
// Register it first, with Echo's Recover after it.
func echoTracing(opts ...asynctrace.Option) echo.MiddlewareFunc {
	mw := httptrace.NewMiddleware(opts...)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req, res := c.Request(), c.Response()
			req.Pattern = c.Path()
			w := res.Writer
			defer func() { res.Writer = w }()
			mw(http.HandlerFunc(func(tw http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				res.Writer = tw
				if err := next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(w, req)
			return nil
		}
	}
}

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// run processes one job, prints the trace and returns its spans.
func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	url := os.Getenv("PULSAR_URL")
	if url == "" {
		srv, err := pulsartest.Start()
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		url = srv.URL()
	}

	// Every service keeps its spans in one recorder, so that the whole
	// trace can be printed.
	rec := tracecheck.NewRecorder()
	var providers []*provider.Provider
	start := func(name string) (*provider.Provider, error) {
		opts := []provider.Option{provider.WithServiceName(name), provider.WithoutGlobals(),
			provider.WithSpanProcessor(rec), provider.WithMetricsExporter("none")}
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
			opts = append(opts, provider.WithTracesExporter("none"))
		}
		p, err := provider.Start(ctx, opts...)
		if err == nil {
			providers = append(providers, p)
		}
		return p, err
	}
	err := system(ctx, url, start, out)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range providers {
		err = errors.Join(err, p.Shutdown(shutdownCtx))
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	return rec.Spans(), tracecheck.Render(out, rec.Spans())
}

func options(p *provider.Provider, extra ...asynctrace.Option) []asynctrace.Option {
	return append([]asynctrace.Option{
		asynctrace.WithTracerProvider(p.TracerProvider()),
		asynctrace.WithMeterProvider(p.MeterProvider()),
		asynctrace.WithPropagators(p.Propagator()),
	}, extra...)
}

func system(ctx context.Context, url string, start func(string) (*provider.Provider, error), out io.Writer) error {
	gateway, err := start("gateway")
	if err != nil {
		return err
	}
	api, err := start("api")
	if err != nil {
		return err
	}
	worker, err := start("worker")
	if err != nil {
		return err
	}

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: url, Logger: pulsarlog.DefaultNopLogger()})
	if err != nil {
		return err
	}
	defer client.Close()
	p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, SendTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	producer := pulsartrace.WrapProducer(p, options(api, pulsartrace.WithServiceURL(url))...)
	defer producer.Close()
	c, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic:                       topic,
		SubscriptionName:            "worker",
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		return err
	}
	consumer := pulsartrace.WrapConsumer(c, options(worker, pulsartrace.WithServiceURL(url))...)
	defer consumer.Close()

	// api: the Echo service.
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(echoTracing(options(api)...), middleware.Recover())
	e.POST("/v1/process", func(c echo.Context) error {
		var job struct {
			ID string `json:"id"`
		}
		if err := c.Bind(&job); err != nil {
			return err // 400, recorded on the span
		}
		if _, err := producer.Send(c.Request().Context(), &pulsar.ProducerMessage{Payload: []byte(job.ID)}); err != nil {
			return err // 500, an error on the span
		}
		return c.JSON(http.StatusAccepted, map[string]string{"id": job.ID, "status": "queued"})
	})
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()

	// gateway: its own server span, and a client that sends traceparent.
	httpClient := httptrace.WrapClient(&http.Client{Timeout: 5 * time.Second}, options(gateway)...)
	defer httpClient.CloseIdleConnections()
	gwCtx, route := gateway.TracerProvider().Tracer("gateway").Start(ctx, "gateway POST /v1/process",
		trace.WithSpanKind(trace.SpanKindServer))
	req, err := http.NewRequestWithContext(gwCtx, http.MethodPost, "http://"+ln.Addr().String()+"/v1/process",
		strings.NewReader(`{"id":"job-1"}`))
	if err != nil {
		route.End()
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	route.End()
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "gateway: POST /v1/process -> %s %s", resp.Status, body)
	fmt.Fprintf(out, "gateway: traceresponse %s\n", resp.Header.Get(httptrace.TraceResponseHeader))

	// worker: finishes the job inside the process span.
	recvCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := consumer.Receive(recvCtx)
	if err != nil {
		return err
	}
	_, finish := worker.TracerProvider().Tracer("worker").Start(pulsartrace.ContextFromMessage(msg), "finish job")
	fmt.Fprintf(out, "worker: finished %s in trace %s\n", msg.Payload(), finish.SpanContext().TraceID())
	finish.End()
	return consumer.Ack(msg) // ends the process span
}
