package httptrace

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/propagation"
)

// Canonical header keys of W3C Trace Context, so the header map is read
// without canonicalising (and allocating) a key on every request.
const (
	traceparentField = "traceparent"
	tracestateField  = "tracestate"
	traceparentKey   = "Traceparent"
	tracestateKey    = "Tracestate"
)

// maxTraceStateMembers is the W3C limit on list-members in a tracestate.
const maxTraceStateMembers = 32

// w3cPropagator applies the header rules of W3C Trace Context around a
// propagator, which OpenTelemetry's HeaderCarrier and TraceContext leave
// out: HeaderCarrier shows a propagator only the first line of a repeated
// header, and ParseTraceState gives up the whole tracestate for a single
// bad member. Only the traceparent and tracestate fields are affected, so
// propagators for other formats see the request as before.
type w3cPropagator struct {
	propagation.TextMapPropagator
}

// Extract hands the propagator a view of the request headers in which
// traceparent and tracestate read as the specification defines them.
func (p w3cPropagator) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	if h, ok := c.(propagation.HeaderCarrier); ok {
		c = w3cHeader(h)
	}
	return p.TextMapPropagator.Extract(ctx, c)
}

// Inject writes the context, then removes tracestate lines that the
// request carried before a new traceparent replaced its own: a tracestate
// describes the position given by its traceparent, and the propagator
// writes tracestate only when the new context has one.
func (p w3cPropagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	h, ok := c.(propagation.HeaderCarrier)
	if !ok {
		p.TextMapPropagator.Inject(ctx, c)
		return
	}
	parent, state := h[traceparentKey], h[tracestateKey]
	p.TextMapPropagator.Inject(ctx, c)
	if len(state) == 0 || !replaced(parent, h[traceparentKey]) || replaced(state, h[tracestateKey]) {
		return
	}
	delete(h, tracestateKey)
}

// replaced reports whether after is not the same slice as before, which is
// how a Set on the header map shows.
func replaced(before, after []string) bool {
	switch {
	case len(after) == 0:
		return len(before) != 0
	case len(before) == 0:
		return true
	default:
		return &before[0] != &after[0] || len(before) != len(after)
	}
}

// w3cHeader is a request's header map as a carrier that reads traceparent
// and tracestate by the W3C rules. Being a map type, it converts to an
// interface without allocating.
type w3cHeader http.Header

// Get returns traceparent only when the request has exactly one such line:
// several lines are no valid traceparent, so the trace restarts instead of
// continuing from whichever line came first. tracestate lines are one
// list, read in order, with the members OpenTelemetry could not hold
// removed (see normalizeTraceState). Other keys read as in
// propagation.HeaderCarrier.
func (h w3cHeader) Get(key string) string {
	switch key {
	case traceparentField:
		if v := h[traceparentKey]; len(v) == 1 {
			return v[0]
		}
		return ""
	case tracestateField:
		switch v := h[tracestateKey]; len(v) {
		case 0:
			return ""
		case 1:
			return normalizeTraceState(v[0])
		default:
			return normalizeTraceState(strings.Join(v, ","))
		}
	}
	return http.Header(h).Get(key)
}

// Values returns every line of the header key, as
// propagation.HeaderCarrier does; the Baggage propagator uses it to read
// repeated baggage lines.
func (h w3cHeader) Values(key string) []string { return http.Header(h).Values(key) }

// Set stores value as the only line of key.
func (h w3cHeader) Set(key, value string) { http.Header(h).Set(key, value) }

// Keys lists the header names.
func (h w3cHeader) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

// normalizeTraceState returns the tracestate list s with only what the
// specification lets a receiver drop taken out, in a form
// trace.ParseTraceState accepts as a whole: members that are not valid
// (including whitespace-only ones), later repeats of a key already seen
// (the left-most entry is the most recent position of that vendor), and
// the right-most members beyond the 32 a list may hold. The order of the
// rest is kept. A list that needs none of this is returned unchanged
// without allocating.
func normalizeTraceState(s string) string {
	type member struct{ key, value string }
	var kept [maxTraceStateMembers]member
	n, clean := 0, true
	for rest := s; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		if item == "" {
			continue // skipped by ParseTraceState too
		}
		if n == len(kept) {
			clean = false
			break
		}
		key, value, ok := parseTraceStateMember(item)
		if !ok {
			clean = false
			continue
		}
		dup := false
		for _, m := range kept[:n] {
			if m.key == key {
				dup = true
				break
			}
		}
		if dup {
			clean = false
			continue
		}
		kept[n] = member{key, value}
		n++
	}
	if clean {
		return s
	}
	size := 0
	for _, m := range kept[:n] {
		size += len(m.key) + len(m.value) + 2
	}
	var b strings.Builder
	b.Grow(size)
	for i, m := range kept[:n] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.key)
		b.WriteByte('=')
		b.WriteString(m.value)
	}
	return b.String()
}

// parseTraceStateMember splits one list-member into key and value,
// ignoring the optional whitespace around it, and reports whether both are
// valid by the rules trace.ParseTraceState applies, so that a list made of
// accepted members is never rejected as a whole.
func parseTraceStateMember(item string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(item, "=")
	if !ok {
		return "", "", false
	}
	key = strings.TrimLeft(key, " \t")
	value = strings.TrimRight(value, " \t")
	return key, value, validTraceStateKey(key) && validTraceStateValue(value)
}

// validTraceStateKey checks a key against the grammar of W3C Trace Context
// Level 1, which OpenTelemetry's TraceState enforces:
//
//	key              = simple-key / multi-tenant-key
//	simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//	multi-tenant-key = tenant-id "@" system-id
//	tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//	system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
func validTraceStateKey(key string) bool {
	tenant, system, multi := strings.Cut(key, "@")
	if !multi {
		return keyPart(key, 256, false)
	}
	return keyPart(tenant, 241, true) && keyPart(system, 14, false)
}

// keyPart checks one part of a key: 1 to limit characters, the first a
// lowercase letter (or a digit when digitFirst), the rest lowercase
// letters, digits, "_", "-", "*" or "/".
func keyPart(s string, limit int, digitFirst bool) bool {
	if s == "" || len(s) > limit {
		return false
	}
	if c := s[0]; !(c >= 'a' && c <= 'z') && !(digitFirst && c >= '0' && c <= '9') {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-', c == '*', c == '/':
		default:
			return false
		}
	}
	return true
}

// validTraceStateValue checks a value: 1 to 256 printable ASCII
// characters other than "," and "=", the last not a space.
func validTraceStateValue(v string) bool {
	if v == "" || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}
