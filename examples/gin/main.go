// Command gin serves a route with Gin, traced by otelgin plus the two
// things httptrace would add (health probes untraced, the traceresponse
// header), and calls it from a traced client in a service called gateway:
//
//	GET                      gateway  client
//	`- GET /v1/orders/:id    api      server
//
//	go run ./examples/gin
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/tracecheck"
)

// traceResponse sets the traceresponse header naming otelgin's server
// span. Register it right after otelgin.Middleware.
func traceResponse(c *gin.Context) {
	if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
		c.Header(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	c.Next()
}

// notHealth keeps probes and scrapes untraced, as httptrace does.
func notHealth(r *http.Request) bool {
	return !slices.Contains(httptrace.DefaultHealthPaths(), r.URL.Path)
}

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
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

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(
		otelgin.Middleware("api",
			otelgin.WithTracerProvider(api.TracerProvider()),
			otelgin.WithMeterProvider(api.MeterProvider()),
			otelgin.WithPropagators(api.Propagator()),
			otelgin.WithFilter(notHealth)),
		traceResponse,
		gin.Recovery(),
	)
	r.GET("/v1/orders/:id", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"id": c.Param("id")})
	})
	url, stop, err := serve(r)
	if err != nil {
		return err
	}
	defer stop()
	return get(ctx, gateway, url+"/v1/orders/42", out)
}
