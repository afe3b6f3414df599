// Command fiber serves a route with Fiber v3, traced by Fiber's
// OpenTelemetry middleware plus the two things httptrace would add
// (health probes untraced, the traceresponse header), and calls it from a
// traced client in a service called gateway:
//
//	GET                      gateway  client
//	`- GET /v1/orders/:id    api      server
//
//	go run ./examples/fiber
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"

	fiberotel "github.com/gofiber/contrib/v3/otel"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/provider"
	"github.com/asynctrace/asynctrace/tracecheck"
)

// tracing is Fiber's OpenTelemetry middleware set up as httptrace would
// be: spans named "{method} {route}", health probes untraced.
func tracing(p *provider.Provider) fiber.Handler {
	return fiberotel.Middleware(
		fiberotel.WithTracerProvider(p.TracerProvider()),
		fiberotel.WithMeterProvider(p.MeterProvider()),
		fiberotel.WithPropagators(p.Propagator()),
		fiberotel.WithNext(func(c fiber.Ctx) bool {
			return slices.Contains(httptrace.DefaultHealthPaths(), c.Path())
		}),
		fiberotel.WithSpanNameFormatter(func(c fiber.Ctx) string {
			// An unmatched request ends on the route of the middleware
			// itself, "/": name it after the method.
			if c.Response().StatusCode() == fiber.StatusNotFound && c.Route().Path == "/" {
				return c.Method()
			}
			return c.Method() + " " + c.Route().Path
		}))
}

// traceResponse sets the traceresponse header naming the server span.
// Register it right after tracing.
func traceResponse(c fiber.Ctx) error {
	if sc := trace.SpanContextFromContext(c.Context()); sc.IsValid() {
		c.Set(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	return c.Next()
}

func main() {
	if _, err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fiber:", err)
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

	app := fiber.New()
	app.Use(tracing(api), traceResponse, recover.New())
	app.Get("/v1/orders/:id", func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"id": c.Params("id")})
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	}()
	defer func() {
		_ = app.Shutdown()
		<-done
	}()
	return get(ctx, gateway, "http://"+ln.Addr().String()+"/v1/orders/42", out)
}
