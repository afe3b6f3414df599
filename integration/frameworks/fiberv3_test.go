package frameworks_test

import (
	"net"
	"net/http"
	"slices"
	"testing"

	fiberotel "github.com/gofiber/contrib/v3/otel"
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// fiberV3TraceResponse is the Fiber v3 recipe's addition to the contrib
// middleware: the traceresponse header naming the server span.
func fiberV3TraceResponse(c fiber.Ctx) error {
	if sc := trace.SpanContextFromContext(c.Context()); sc.IsValid() {
		c.Set(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	return c.Next()
}

func TestFiberV3(t *testing.T) {
	testFramework(t, framework{
		userRoute: "/users/:id",
		spanName:  semconvName,
		// The contrib middleware gives an unmatched request the route of
		// the middleware itself.
		unmatchedRoute: ptr("/"),
		start: func(t *testing.T, a *app, ln net.Listener) {
			app := fiber.New()
			app.Use(
				fiberotel.Middleware(
					fiberotel.WithTracerProvider(a.tel.TracerProvider),
					fiberotel.WithMeterProvider(a.tel.MeterProvider),
					fiberotel.WithPropagators(telemetrytest.W3C),
					fiberotel.WithNext(func(c fiber.Ctx) bool {
						return slices.Contains(httptrace.DefaultHealthPaths(), c.Path())
					}),
					fiberotel.WithSpanNameFormatter(func(c fiber.Ctx) string {
						// An unmatched request ends on the route of the
						// middleware itself, "/": name it after the method.
						if c.Response().StatusCode() == fiber.StatusNotFound && c.Route().Path == "/" {
							return c.Method()
						}
						return c.Method() + " " + c.Route().Path
					})),
				fiberV3TraceResponse,
				recover.New(),
			)
			app.Get("/users/:id", func(c fiber.Ctx) error {
				return c.JSON(fiber.Map{"id": c.Params("id")})
			})
			app.Post("/users", func(c fiber.Ctx) error {
				var u user
				if err := c.Bind().Body(&u); err != nil {
					return fiber.NewError(fiber.StatusBadRequest, err.Error())
				}
				return c.Status(fiber.StatusCreated).JSON(u)
			})
			app.Get("/fail", func(fiber.Ctx) error { return errBoom })
			app.Get("/panic", func(fiber.Ctx) error { panic(errBoom) })
			app.Get("/healthz", func(c fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
			app.Post("/v1/process", func(c fiber.Ctx) error {
				if err := a.send(c.Context()); err != nil {
					return err
				}
				return c.SendStatus(fiber.StatusAccepted)
			})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
			}()
			t.Cleanup(func() {
				_ = app.Shutdown()
				<-done
			})
		},
	})
}
