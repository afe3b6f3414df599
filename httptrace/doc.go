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
// # Frameworks
//
// Where the middleware sits decides what the span knows: it must run
// inside the router, after the route is matched, and the response,
// including one an error handler writes, must be written before it
// returns. The recipes below get that right; each is tested over a real
// listener in the integration module (integration/frameworks: 200, 400,
// 404, 500 from a returned error and from a recovered panic, health path,
// traceresponse, incoming traceparent, a Pulsar send in the handler) and
// runs in the examples module.
//
// net/http: a Go 1.22+ ServeMux inside the middleware names the span
// "GET /v1/orders/{id}" (examples/http):
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/orders/{id}", getOrder)
//	srv := &http.Server{Addr: ":8080", Handler: httptrace.WrapHandler(mux)}
//
// chi: inside the router, with the route chi matched, and chi's Recoverer
// after it so that a panic is a 500 on the span (examples/chi):
//
//	r := chi.NewRouter()
//	r.Use(httptrace.NewMiddleware(httptrace.WithRouteFunc(func(r *http.Request) string {
//		return chi.RouteContext(r.Context()).RoutePattern()
//	})), middleware.Recoverer)
//
// gorilla/mux: the same through mux.CurrentRoute(r).GetPathTemplate().
//
// Echo v4: not echo.WrapMiddleware, which sees neither the route nor the
// status of the responses Echo's HTTPErrorHandler writes after the
// middleware returned (a 500 is recorded as 200). A native Echo middleware
// hands the route over in r.Pattern and has the error handler write the
// response while the span is open (examples/echo):
//
//	func echoTracing(opts ...asynctrace.Option) echo.MiddlewareFunc {
//		mw := httptrace.NewMiddleware(opts...)
//		return func(next echo.HandlerFunc) echo.HandlerFunc {
//			return func(c echo.Context) error {
//				req, res := c.Request(), c.Response()
//				req.Pattern = c.Path()
//				w := res.Writer
//				defer func() { res.Writer = w }()
//				mw(http.HandlerFunc(func(tw http.ResponseWriter, r *http.Request) {
//					c.SetRequest(r)
//					res.Writer = tw
//					if err := next(c); err != nil {
//						c.Error(err)
//					}
//				})).ServeHTTP(w, req)
//				return nil
//			}
//		}
//	}
//
//	e.Use(echoTracing(), middleware.Recover())
//
// Echo v5: the same with *echo.Context, c.SetResponse(tw) for the writer
// and c.Echo().HTTPErrorHandler(c, err) for c.Error(err)
// (integration/frameworks/echov5_test.go). Echo's own middleware for v5,
// github.com/labstack/echo-opentelemetry (v0.0.1), sets an error status for
// every returned error, 400 and 404 included.
//
// Gin: otelgin (go.opentelemetry.io/contrib/.../gin-gonic/gin/otelgin),
// with a filter for the health paths and a few lines for the
// traceresponse header (examples/gin):
//
//	r.Use(otelgin.Middleware("api", otelgin.WithFilter(func(r *http.Request) bool {
//		return !slices.Contains(httptrace.DefaultHealthPaths(), r.URL.Path)
//	})), func(c *gin.Context) {
//		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
//			c.Header(httptrace.TraceResponseHeader, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
//		}
//		c.Next()
//	}, gin.Recovery())
//
// Bind with ShouldBind*: Bind* adds the error to c.Errors, and otelgin
// marks a span with errors as failed even for a 400. On an unmatched
// request otelgin sets http.route to "".
//
// Fiber (fasthttp, not net/http): Fiber's own OpenTelemetry middleware,
// github.com/gofiber/contrib/v3/otel for Fiber v3 (examples/fiber), with
// WithNext skipping the health paths, WithSpanNameFormatter naming spans
// "{method} {route}", and the traceresponse header set from c.Context() as
// for Gin. For Fiber v2, github.com/gofiber/contrib/otelfiber/v2 is set up
// the same way (c.UserContext()); it follows the older semantic
// conventions (http.status_code, http.method). Both record the route of
// the middleware itself, "/", on an unmatched request, and return the
// trace context in a traceparent response header besides.
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
// # W3C Trace Context
//
// Whenever the propagator reads or writes traceparent and tracestate (the
// default, propagation.TraceContext, or a composite holding it), both ends
// apply the header rules of the W3C Trace Context specification, which
// OpenTelemetry's HeaderCarrier and TraceState leave out. The server
// decides once what it continues; what it kept travels unchanged through
// the span context, every broker hop and the next outgoing request.
//
// Kept:
//
//   - a request with exactly one valid traceparent line continues that
//     trace, whatever happens to its tracestate: a bad tracestate never
//     costs the trace;
//   - several tracestate lines, which HTTP allows for a list, are one list
//     joined in order; empty lines and empty members add nothing;
//   - every valid member, in its order: up to 32 members, keys of up to 256
//     characters, multi-tenant keys ("tenant@system"), values of up to 256
//     characters. Whitespace around members is not part of them and is not
//     sent on.
//
// Dropped:
//
//   - several traceparent lines: they are no valid traceparent, so the
//     request starts a new trace instead of trusting whichever line came
//     first, and its tracestate goes with it, as for any malformed
//     traceparent;
//   - a tracestate without a valid traceparent;
//   - an invalid tracestate member (a key or value outside the grammar, a
//     member without "=", a whitespace-only member), alone; the others stay.
//     The specification allows dropping either the member or the whole
//     header and asks receivers not to delete other vendors' entries, so
//     only the member goes;
//   - a later repeat of a key: the specification lets a receiver drop
//     duplicates, and the left-most entry is the vendor's most recent
//     position;
//   - members after the 32nd valid one: a list holds at most 32, and the
//     specification removes entries from the right;
//   - on an outgoing request, the traceparent and tracestate lines it
//     already carried, once the propagator writes the request's own
//     traceparent: a tracestate left over from another context would
//     describe a different position in the trace. A request sent without
//     a valid span context keeps its headers as they are.
//
// Keys are checked against the grammar of Trace Context Level 1, which
// OpenTelemetry's TraceState enforces; keys that only later drafts allow
// (a key starting with a digit without an "@", several "@", a system part
// longer than 14 characters) cannot be held in a span context and are
// dropped as invalid members. OpenTelemetry Go alone reads only the first
// line of each header and discards the whole tracestate for any one bad,
// repeated or surplus member.
//
// A propagator passed through [WithOTelHTTPOptions] with
// otelhttp.WithPropagators replaces this handling along with the
// propagator.
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
