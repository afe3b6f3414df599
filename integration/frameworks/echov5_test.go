package frameworks_test

import (
	"net"
	"net/http"
	"testing"

	echo "github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
)

// echoV5Tracing is the Echo recipe for Echo v5, whose context is a struct
// and whose errors go to Echo's HTTPErrorHandler directly.
func echoV5Tracing(opts ...asynctrace.Option) echo.MiddlewareFunc {
	mw := httptrace.NewMiddleware(opts...)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req, w := c.Request(), c.Response()
			req.Pattern = c.Path()
			defer c.SetResponse(w)
			mw(http.HandlerFunc(func(tw http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(tw)
				if err := next(c); err != nil {
					c.Echo().HTTPErrorHandler(c, err)
				}
			})).ServeHTTP(w, req)
			return nil
		}
	}
}

func TestEchoV5(t *testing.T) {
	testFramework(t, framework{
		userRoute: "/users/:id",
		spanName:  semconvName,
		start: func(t *testing.T, a *app, ln net.Listener) {
			e := echo.New()
			e.Use(echoV5Tracing(a.tel.Options()...), middleware.Recover())
			e.GET("/users/:id", func(c *echo.Context) error {
				return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
			})
			e.POST("/users", func(c *echo.Context) error {
				var u user
				if err := c.Bind(&u); err != nil {
					return err
				}
				return c.JSON(http.StatusCreated, u)
			})
			e.GET("/fail", func(*echo.Context) error { return errBoom })
			e.GET("/panic", func(*echo.Context) error { panic(errBoom) })
			e.GET("/healthz", func(c *echo.Context) error { return c.NoContent(http.StatusOK) })
			e.POST("/v1/process", func(c *echo.Context) error {
				if err := a.send(c.Request().Context()); err != nil {
					return err
				}
				return c.NoContent(http.StatusAccepted)
			})
			serveHTTP(t, e, ln)
		},
	})
}
