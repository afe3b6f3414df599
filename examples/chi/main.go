// Command chi serves a route with chi, traced by httptrace's middleware
// with the route chi matched, and calls it from a traced client in a
// service called gateway:
//
//	GET                      gateway  client
//	`- GET /v1/orders/{id}   api      server
//
//	go run ./examples/chi
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/tracecheck"
)

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chi:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) ([]tracecheck.Span, error) {
	services := newServices()
	if err := call(ctx, services, out); err != nil {
		_, _ = services.finish(io.Discard)
		return nil, err
	}
	return services.finish(out)
}

func call(ctx context.Context, services *services, out io.Writer) error {
	gateway, err := services.start(ctx, "gateway")
	if err != nil {
		return err
	}
	api, err := services.start(ctx, "api")
	if err != nil {
		return err
	}

	r := chi.NewRouter()
	// The middleware goes inside the router (Use), where chi's route
	// context exists; Recoverer after it, so a panic is a 500 on the span.
	r.Use(
		httptrace.NewMiddleware(api.Options(httptrace.WithRouteFunc(func(r *http.Request) string {
			return chi.RouteContext(r.Context()).RoutePattern()
		}))...),
		middleware.Recoverer,
	)
	r.Get("/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%q}`, chi.URLParam(r, "id"))
	})

	url, stop, err := serve(r)
	if err != nil {
		return err
	}
	defer stop()
	return get(ctx, gateway, url+"/v1/orders/42", out)
}
