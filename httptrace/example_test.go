package httptrace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
)

// A service traced end to end: the client call and the server request share
// one trace, and the caller learns the trace id from the traceresponse
// header. A tracer provider is all the setup needed: with no propagator
// installed, W3C Trace Context and Baggage carry the trace.
func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "order %s", r.PathValue("id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(httptrace.WrapHandler(mux, asynctrace.WithTracerProvider(tp)))
	defer srv.Close()

	client := httptrace.WrapClient(srv.Client(), asynctrace.WithTracerProvider(tp))
	for _, path := range []string{"/healthz", "/v1/orders/7"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		traceResponse := resp.Header.Get("traceresponse")
		fmt.Printf("%s -> %q, traceresponse present: %t\n", path, body, traceResponse != "")
		if traceResponse == "" {
			continue
		}
		// The server span ends before the client reads the whole response.
		for _, s := range rec.Ended() {
			if strings.Contains(traceResponse, s.SpanContext().TraceID().String()) {
				fmt.Printf("  %s span %q\n", s.SpanKind(), s.Name())
			}
		}
	}
	// Output:
	// /healthz -> "ok", traceresponse present: false
	// /v1/orders/7 -> "order 7", traceresponse present: true
	//   server span "GET /v1/orders/{id}"
	//   client span "GET"
}

// Middleware for any router that takes func(http.Handler) http.Handler. The
// server span continues the caller's trace from its traceparent header.
func ExampleNewMiddleware() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	mw := httptrace.NewMiddleware(asynctrace.WithTracerProvider(tp), httptrace.WithoutTraceResponse())
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))

	req := httptest.NewRequest(http.MethodGet, "/work", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)

	s := rec.Ended()[0]
	fmt.Printf("%s span %q in trace %s\n", s.SpanKind(), s.Name(), s.SpanContext().TraceID())
	fmt.Printf("traceresponse: %q\n", w.Header().Get("traceresponse"))
	// Output:
	// server span "GET" in trace 4bf92f3577b34da6a3ce929d0e0e4736
	// traceresponse: ""
}

// Outgoing requests carry the caller's trace in traceparent.
func ExampleWrapTransport() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("traceparent"))
	}))
	defer backend.Close()

	client := &http.Client{Transport: httptrace.WrapTransport(backend.Client().Transport, asynctrace.WithTracerProvider(tp))}

	ctx, span := tp.Tracer("example").Start(context.Background(), "checkout")
	defer span.End()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	traceparent, _ := io.ReadAll(resp.Body)

	fmt.Println("backend saw the caller's trace:",
		strings.Contains(string(traceparent), span.SpanContext().TraceID().String()))
	// Output:
	// backend saw the caller's trace: true
}
