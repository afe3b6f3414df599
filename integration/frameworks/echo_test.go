package frameworks_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
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

// TestEchoWrapMiddlewareMisses shows why the Echo recipe is not
// echo.WrapMiddleware: the wrapped middleware returns before Echo's error
// handler writes the 500, so the span records neither the status nor the
// route.
func TestEchoWrapMiddlewareMisses(t *testing.T) {
	a := newApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(echo.WrapMiddleware(httptrace.NewMiddleware(a.tel.Options()...)))
	e.GET("/fail", func(echo.Context) error { return errBoom })
	serveHTTP(t, e, ln)
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	resp, gateway := a.call(t, client, http.MethodGet, "http://"+ln.Addr().String()+"/fail", "")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	srv := a.serverSpan(t, gateway)
	if srv.Name() != http.MethodGet {
		t.Errorf("span %q, want the bare method", srv.Name())
	}
	telemetrytest.WantAttr(t, srv, "http.response.status_code", int64(http.StatusOK))
}
