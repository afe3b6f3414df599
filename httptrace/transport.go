package httptrace

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/asynctrace/asynctrace"
)

// WrapTransport wraps base (http.DefaultTransport when nil, as in
// net/http) so that every
// request made through it gets a CLIENT span named after the HTTP method, a
// child of the span in the request's context, and carries that span's
// context in the traceparent header (and whatever else the propagator
// writes). Server-only options (health paths, filters, route function,
// traceresponse) have no effect here.
//
// The returned RoundTripper also has CloseIdleConnections, forwarded to
// base, so that http.Client.CloseIdleConnections still reaches the
// connection pool.
func WrapTransport(base http.RoundTripper, opts ...asynctrace.Option) http.RoundTripper {
	return wrapTransport("WrapTransport", base, opts)
}

func wrapTransport(fn string, base http.RoundTripper, opts []asynctrace.Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	c := newConfig(fn, opts)
	if t, ok := base.(*transport); ok {
		return t
	}
	return &transport{
		traced: otelhttp.NewTransport(base, c.otelhttpOptions(otelhttp.WithSpanNameFormatter(clientSpanName))...),
		base:   base,
	}
}

// transport adds CloseIdleConnections, which otelhttp.Transport lacks.
type transport struct {
	traced *otelhttp.Transport
	base   http.RoundTripper
}

// RoundTrip sends r through the otelhttp transport.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.traced.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport, if it keeps any.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// WrapClient returns a copy of base (a zero http.Client when nil, which
// net/http treats as http.DefaultClient) whose transport is base's
// transport wrapped by [WrapTransport]. base itself is not modified.
// Requests must carry the caller's context (http.NewRequestWithContext) for
// the client span to join the caller's trace.
func WrapClient(base *http.Client, opts ...asynctrace.Option) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	c.Transport = wrapTransport("WrapClient", c.Transport, opts)
	return &c
}

// clientSpanName names client spans "{method}" as the HTTP semantic
// conventions ask when no URL template is known; methods outside the
// standard set are reported as "HTTP" to keep span-name cardinality bounded.
func clientSpanName(_ string, r *http.Request) string {
	switch r.Method {
	case "":
		return http.MethodGet
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return r.Method
	default:
		return "HTTP"
	}
}
