package frameworks_test

import (
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/gofiber/contrib/otelfiber/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// fiberTraceResponse is the Fiber v2 recipe's addition to otelfiber: the
// traceresponse header naming the server span.
func fiberTraceResponse(c *fiber.Ctx) error {
	if sc := trace.SpanContextFromContext(c.UserContext()); sc.IsValid() {
		c.Set(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	return c.Next()
}

func TestFiberV2(t *testing.T) {
	testFramework(t, framework{
		userRoute: "/users/:id",
		spanName:  semconvName,
		// The contrib middleware gives an unmatched request the route of
		// the middleware itself.
		unmatchedRoute: ptr("/"),
		// otelfiber v2 follows semantic conventions v1.12.
		statusKey: "http.status_code",
		start: func(t *testing.T, a *app, ln net.Listener) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Use(
				otelfiber.Middleware(
					otelfiber.WithTracerProvider(a.tel.TracerProvider),
					otelfiber.WithMeterProvider(a.tel.MeterProvider),
					otelfiber.WithPropagators(telemetrytest.W3C),
					otelfiber.WithNext(func(c *fiber.Ctx) bool {
						return slices.Contains(httptrace.DefaultHealthPaths(), c.Path())
					}),
					otelfiber.WithSpanNameFormatter(func(c *fiber.Ctx) string {
						// An unmatched request ends on the route of the
						// middleware itself, "/": name it after the method.
						if c.Response().StatusCode() == fiber.StatusNotFound && c.Route().Path == "/" {
							return c.Method()
						}
						return c.Method() + " " + c.Route().Path
					})),
				fiberTraceResponse,
				recover.New(),
			)
			app.Get("/users/:id", func(c *fiber.Ctx) error {
				return c.JSON(fiber.Map{"id": c.Params("id")})
			})
			app.Post("/users", func(c *fiber.Ctx) error {
				var u user
				if err := c.BodyParser(&u); err != nil {
					return fiber.NewError(fiber.StatusBadRequest, err.Error())
				}
				return c.Status(fiber.StatusCreated).JSON(u)
			})
			app.Get("/fail", func(*fiber.Ctx) error { return errBoom })
			app.Get("/panic", func(*fiber.Ctx) error { panic(errBoom) })
			app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendStatus(http.StatusOK) })
			app.Post("/v1/process", func(c *fiber.Ctx) error {
				if err := a.send(c.UserContext()); err != nil {
					return err
				}
				return c.SendStatus(fiber.StatusAccepted)
			})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = app.Listener(ln)
			}()
			t.Cleanup(func() {
				_ = app.Shutdown()
				<-done
			})
		},
	})
}
