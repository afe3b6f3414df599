package frameworks_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
)

// echoTracing is the Echo recipe: httptrace's middleware as a native Echo
// middleware. It hands the matched route to the span through the
// request's Pattern, and passes an error returned further down to Echo's
// HTTPErrorHandler itself, so that the response (400, 404, 500) is written
// while the span is still open and the span records the real status.
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

func TestEcho(t *testing.T) {
	testFramework(t, framework{
		userRoute: "/users/:id",
		spanName:  semconvName,
		start: func(t *testing.T, a *app, ln net.Listener) {
			e := echo.New()
			e.HideBanner, e.HidePort = true, true
			e.Use(echoTracing(a.tel.Options()...), middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
			e.GET("/users/:id", func(c echo.Context) error {
				return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
			})
			e.POST("/users", func(c echo.Context) error {
				var u user
				if err := c.Bind(&u); err != nil {
					return err
				}
				return c.JSON(http.StatusCreated, u)
			})
			e.GET("/fail", func(echo.Context) error { return errBoom })
			e.GET("/panic", func(echo.Context) error { panic(errBoom) })
			e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
			e.POST("/v1/process", func(c echo.Context) error {
				if err := a.send(c.Request().Context()); err != nil {
					return err
				}
				return c.NoContent(http.StatusAccepted)
			})
			serveHTTP(t, e, ln)
		},
	})
}
