// Command http calls a traced HTTP server in a service called api from a
// traced HTTP client in a service called frontend, and prints the trace they
// share and the traceresponse header the server answers with:
//
//	render page               frontend  internal
//	`- GET                    frontend  client
//	   `- GET /v1/orders/{id}  api       server
//
//	cd examples && go run ./http
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/tracecheck"
)

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(1)
	}
}

// run makes one call, prints what happened and returns the spans.
func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	services := newServices()
	if err := call(ctx, services, out); err != nil {
		_, _ = services.finish(io.Discard)
		return nil, err
	}
	return services.finish(out)
}

func call(ctx context.Context, services *services, out io.Writer) error {
	frontend, err := services.start(ctx, "frontend")
	if err != nil {
		return err
	}
	api, err := services.start(ctx, "api")
	if err != nil {
		return err
	}

	// api: a ServeMux inside the middleware, so the span is named after the
	// route pattern.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%q,"trace_id":%q}`, r.PathValue("id"), trace.SpanContextFromContext(r.Context()).TraceID())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: httptrace.WrapHandler(mux,
			asynctrace.WithTracerProvider(api.TracerProvider()),
			asynctrace.WithPropagators(api.Propagator()),
			asynctrace.WithMeterProvider(api.MeterProvider())),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()

	// frontend: a client whose requests carry the caller's trace.
	client := httptrace.WrapClient(&http.Client{Timeout: 5 * time.Second},
		asynctrace.WithTracerProvider(frontend.TracerProvider()),
		asynctrace.WithPropagators(frontend.Propagator()),
		asynctrace.WithMeterProvider(frontend.MeterProvider()))
	defer client.CloseIdleConnections()

	reqCtx, work := frontend.TracerProvider().Tracer("frontend").Start(ctx, "render page")
	defer work.End()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, "http://"+ln.Addr().String()+"/v1/orders/42", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "frontend called GET /v1/orders/42 in trace %s\n", work.SpanContext().TraceID())
	fmt.Fprintf(out, "api answered %s %s\n", resp.Status, body)
	fmt.Fprintf(out, "traceresponse: %s\n", resp.Header.Get(httptrace.TraceResponseHeader))
	return nil
}
