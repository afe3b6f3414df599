package frameworks_test

import (
	"io"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
)

// ginTraceResponse is the Gin recipe's addition to otelgin: the
// traceresponse header naming the server span, set before the handler
// writes.
func ginTraceResponse(c *gin.Context) {
	if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
		c.Header(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	c.Next()
}

// notHealth is the Gin and Fiber recipes' filter keeping probes and
// scrapes untraced, as httptrace does by default.
func notHealth(r *http.Request) bool {
	return !slices.Contains(httptrace.DefaultHealthPaths(), r.URL.Path)
}

func TestGin(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	testFramework(t, framework{
		userRoute: "/users/:id",
		spanName:  semconvName,
		// otelgin sets http.route to "" on an unmatched request.
		unmatchedRoute: ptr(""),
		start: func(t *testing.T, a *app, ln net.Listener) {
			r := gin.New()
			r.Use(
				otelgin.Middleware("api",
					otelgin.WithTracerProvider(a.tel.TracerProvider),
					otelgin.WithMeterProvider(a.tel.MeterProvider),
					otelgin.WithPropagators(telemetrytest.W3C),
					otelgin.WithFilter(notHealth)),
				ginTraceResponse,
				gin.RecoveryWithWriter(io.Discard),
			)
			r.GET("/users/:id", func(c *gin.Context) {
				c.JSON(http.StatusOK, gin.H{"id": c.Param("id")})
			})
			r.POST("/users", func(c *gin.Context) {
				var u user
				// ShouldBind, not Bind: Bind adds the error to c.Errors,
				// which otelgin turns into an error status even for a 400.
				if err := c.ShouldBindJSON(&u); err != nil {
					c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": err.Error()})
					return
				}
				c.JSON(http.StatusCreated, u)
			})
			r.GET("/fail", func(c *gin.Context) { _ = c.AbortWithError(http.StatusInternalServerError, errBoom) })
			r.GET("/panic", func(*gin.Context) { panic(errBoom) })
			r.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })
			r.POST("/v1/process", func(c *gin.Context) {
				if err := a.send(c.Request.Context()); err != nil {
					_ = c.AbortWithError(http.StatusInternalServerError, err)
					return
				}
				c.Status(http.StatusAccepted)
			})
			serveHTTP(t, r, ln)
		},
	})
}
