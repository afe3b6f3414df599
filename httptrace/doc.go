// Package httptrace starts and continues traces over HTTP, the usual entry
// point of a trace that later crosses message brokers. It is a thin layer on
// go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp, which does
// the span, attribute and metric work; this package adds the defaults a
// service wants on both ends of an HTTP call.
//
// # Server
//
// [NewMiddleware] (or [WrapHandler]) starts a SERVER span per request, a
// child of the trace context in the incoming traceparent header, or a new
// root when the header is absent or malformed (the request is served either
// way). On top of otelhttp it:
//
//   - serves [DefaultHealthPaths] (/livez, /readyz, /healthz, /metrics)
//     without spans; [WithHealthPaths] replaces the list and [WithFilter]
//     adds predicates;
//   - returns the server span's context in the W3C Trace Context Level 2
//     "traceresponse" response header, "00-<trace-id>-<span-id>-<flags>", so
//     that a caller reporting a problem can quote the trace id. The header
//     is written before the wrapped handler runs, and only for a valid span
//     context; [WithoutTraceResponse] turns it off. Browsers only let
//     scripts read it when CORS lists it in Access-Control-Expose-Headers;
//   - names spans after the route. With a Go 1.22+ http.ServeMux inside the
//     middleware, otelhttp renames the span to "{method} {pattern}" (for
//     example "GET /v1/orders/{id}") and this package also sets http.route
//     on it. Routers that resolve the route themselves report it through
//     [WithRouteFunc]. Unmatched requests keep the semantic-convention name,
//     the method alone ("GET"). Non-standard methods appear as "HTTP".
//
// Span attributes (http.request.method, url.path, url.scheme,
// server.address, http.response.status_code, network.protocol.version,
// user_agent.original, error status for 5xx, ...) and the
// http.server.request.duration, http.server.request.body.size and
// http.server.response.body.size metrics are otelhttp's.
//
// With net/http:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/orders/{id}", getOrder)
//	srv := &http.Server{Addr: ":8080", Handler: httptrace.WrapHandler(mux)}
//
// With chi, inside the router so that the route is known when the handler
// returns:
//
//	r := chi.NewRouter()
//	r.Use(httptrace.NewMiddleware(httptrace.WithRouteFunc(func(r *http.Request) string {
//		return chi.RouteContext(r.Context()).RoutePattern()
//	})))
//
// With gorilla/mux, the same through mux.CurrentRoute(r).GetPathTemplate().
//
// With Echo, echo.WrapMiddleware adapts the middleware directly:
//
//	e.Use(echo.WrapMiddleware(httptrace.NewMiddleware()))
//
// Echo and Gin have already matched the route when their middleware runs,
// so an adapter can hand the route over in r.Pattern, which otelhttp uses
// for the span name from the start:
//
//	mw := httptrace.NewMiddleware()
//	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
//		return func(c echo.Context) (err error) {
//			req := c.Request()
//			req.Pattern = c.Path()
//			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//				c.SetRequest(r)
//				c.Response().Writer = w
//				err = next(c)
//			})).ServeHTTP(c.Response().Writer, req)
//			return err
//		}
//	})
//
//	mw := httptrace.NewMiddleware()
//	router.Use(func(c *gin.Context) {
//		c.Request.Pattern = c.FullPath()
//		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
//			c.Request = r
//			c.Next()
//		})).ServeHTTP(c.Writer, c.Request)
//	})
//
// Gin handlers write through c.Writer rather than the writer the middleware
// passes down, so with this adapter otelhttp does not see the status code
// and response size; the span, its parent, the route name and the
// traceresponse header are unaffected.
//
// # Client
//
// [WrapTransport] wraps an http.RoundTripper and [WrapClient] an
// http.Client so that each outgoing request gets a CLIENT span, named after
// the method, that is a child of the span in the request's context, and
// carries the trace context in traceparent (and tracestate, baggage, ... as
// the propagator decides). The called service continues the same trace.
// Wrapping an already wrapped transport returns it unchanged, so a request
// never gets two client spans.
//
// # Options
//
// Every constructor takes the options of the asynctrace package.
// WithTracerProvider and WithMeterProvider default to the otel globals,
// including ones installed after the handler or client was built. WithPropagators defaults to the global propagator once one is
// installed, and to W3C Trace Context and Baggage until then: a service
// that sets up only a tracer provider still continues its callers' traces
// and passes them on. WithSpanAttributes adds attributes to the server and
// client spans; the messaging options have no effect here.
//
// This package adds its own: [WithHealthPaths], [WithFilter],
// [WithoutTraceResponse] and [WithRouteFunc] apply to the server side only;
// [WithOTelHTTPOptions] passes any otelhttp option through, after the ones
// this package sets.
//
// A nil handler makes WrapHandler panic, as do a nil function given to
// WithFilter or WithRouteFunc and an option of another adapter package
// (pubsubtrace.WithGoogleClientKeys, say); nil options are ignored. A nil
// transport or client means net/http's default, as in net/http.
package httptrace
