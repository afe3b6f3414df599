package httptrace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asynctrace/asynctrace/httptrace"
)

// A service traced end to end: the client call and the server request share
// one trace, and the caller learns the trace id from the traceresponse header.
func Example() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	opts := []httptrace.Option{
		httptrace.WithTracerProvider(tp),
		httptrace.WithPropagators(propagation.TraceContext{}),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "order %s", r.PathValue("id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(httptrace.Handler(mux, opts...))
	defer srv.Close()

	client := httptrace.Client(srv.Client(), opts...)
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

// Outgoing requests carry the caller's trace in traceparent.
func ExampleTransport() {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("traceparent"))
	}))
	defer backend.Close()

	client := &http.Client{Transport: httptrace.Transport(backend.Client().Transport,
		httptrace.WithTracerProvider(tp), httptrace.WithPropagators(propagation.TraceContext{}))}

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
