package httptrace

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
)

// serverOperation is handed to otelhttp as the operation name. otelhttp's
// default span naming ignores it (spans are named "{method}" or
// "{method} {route}"); a custom otelhttp.WithSpanNameFormatter receives it.
const serverOperation = "http.server"

// traceResponseKey is TraceResponseHeader in canonical form, so the header
// map can be written without re-canonicalising the key on every request.
var traceResponseKey = http.CanonicalHeaderKey(TraceResponseHeader)

// NewMiddleware returns server middleware that starts a SERVER span for
// every request not excluded by the health paths or WithFilter, continuing
// the trace from the incoming traceparent when there is one. It fits
// anything that takes func(http.Handler) http.Handler: net/http
// composition, chi's Use, gorilla/mux's Use. The package documentation
// shows the recipe for each framework.
//
// It takes the shared options of package asynctrace (WithTracerProvider,
// WithMeterProvider, WithPropagators, WithSpanAttributes; the messaging
// ones are ignored) and this package's own.
func NewMiddleware(opts ...asynctrace.Option) func(http.Handler) http.Handler {
	return newMiddleware(newConfig("NewMiddleware", opts))
}

func newMiddleware(c *config) func(http.Handler) http.Handler {
	traced := otelhttp.NewMiddleware(serverOperation, c.otelhttpOptions()...)
	return func(next http.Handler) http.Handler {
		if w, ok := next.(*serverHandler); ok {
			return w // already traced: one server span per request
		}
		return &serverHandler{next: next, inSpan: traced(&spanHandler{next: next, cfg: c}), cfg: c}
	}
}

// serverHandler decides whether a request gets a span.
type serverHandler struct {
	next, inSpan http.Handler
	cfg          *config
}

func (h *serverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Filtering here instead of through otelhttp.WithFilter keeps the
	// decision in one place: an untraced request gets neither a span nor a
	// traceresponse header, even when a span from an outer layer is already
	// in its context.
	if !h.cfg.traced(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	h.inSpan.ServeHTTP(w, r)
}

// WrapHandler returns h inside the middleware of [NewMiddleware].
// Wrapping a handler that WrapHandler or NewMiddleware returned returns it
// unchanged, so a request never gets two server spans. It panics if h is
// nil.
func WrapHandler(h http.Handler, opts ...asynctrace.Option) http.Handler {
	if h == nil {
		panic("httptrace.WrapHandler: handler is nil")
	}
	c := newConfig("WrapHandler", opts)
	if w, ok := h.(*serverHandler); ok {
		return w
	}
	return newMiddleware(c)(h)
}

// spanHandler runs inside the otelhttp span.
type spanHandler struct {
	next http.Handler
	cfg  *config
}

func (h *spanHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	span := trace.SpanFromContext(r.Context())
	if h.cfg.traceResponse {
		// Headers are frozen by the first Write or WriteHeader, so this must
		// happen before the handler runs.
		if sc := span.SpanContext(); sc.IsValid() {
			w.Header()[traceResponseKey] = traceResponseValues(sc)
		}
	}

	// r is passed on unchanged: otelhttp names the span from r.Pattern after
	// this returns, and a ServeMux below sets Pattern on this very request.
	h.next.ServeHTTP(w, r)

	if h.cfg.routeFunc != nil {
		if route := h.cfg.routeFunc(r); strings.HasPrefix(route, "/") {
			// r is otelhttp's private copy of the request; setting Pattern
			// is how otelhttp learns a route (span name and the http.route
			// metric attribute) from routers other than ServeMux.
			r.Pattern = route
		}
	}
	if r.Pattern != "" && span.IsRecording() {
		// otelhttp renames the span from a late Pattern but only sets
		// http.route on the span when Pattern was known at start.
		if i := strings.IndexByte(r.Pattern, '/'); i >= 0 {
			span.SetAttributes(semconv.HTTPRoute(r.Pattern[i:]))
		}
	}
}
