package slogtrace

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// handler is a slog.Handler that adds the trace id, span id and trace flags
// of the span in each record's context to the record, then hands the record
// to the wrapped handler. Create it with WrapHandler.
type handler struct {
	// full is the wrapped handler with every WithAttrs and WithGroup call
	// applied; it handles records that get no ids.
	full slog.Handler
	// base is the wrapped handler with only the WithAttrs calls made before
	// the first WithGroup; with groups open, records that carry ids go here
	// with the groups rebuilt as Group attrs, so the ids stay top level.
	base slog.Handler
	// groups are the open groups, outermost first, each with the attrs
	// added while it was the innermost one.
	groups []group
	keys   *keys
}

type group struct {
	name  string
	attrs []slog.Attr
}

var _ slog.Handler = (*handler)(nil)

// WrapHandler returns a handler that wraps inner (a slog.JSONHandler,
// slog.TextHandler or any other handler) and adds the ids of the span in
// each record's context. Wrapping a handler WrapHandler returned returns it
// unchanged, so the ids are never added twice. It panics if inner is nil.
func WrapHandler(inner slog.Handler, opts ...Option) slog.Handler {
	if inner == nil {
		panic("slogtrace.WrapHandler: inner is nil")
	}
	if h, ok := inner.(*handler); ok {
		return h
	}
	k := &keys{traceID: DefaultTraceIDKey, spanID: DefaultSpanIDKey, traceFlags: DefaultTraceFlagsKey}
	for _, o := range opts {
		if o != nil {
			o.apply(k)
		}
	}
	return &handler{full: inner, base: inner, keys: k}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.full.Enabled(ctx, level)
}

// Handle adds the ids of the span in ctx, if ctx holds a valid span context,
// as top-level attributes, whatever groups the handler has open, and passes
// the record on.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.full.Handle(ctx, r)
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.full.Handle(ctx, r)
	}
	var buf [3]slog.Attr
	ids := h.idAttrs(buf[:0], sc)
	if len(ids) == 0 {
		return h.full.Handle(ctx, r)
	}
	if len(h.groups) == 0 {
		// Clone so that appending cannot touch storage shared with another
		// copy of the record, such as one a fan-out handler passes on too.
		r = r.Clone()
		r.AddAttrs(ids...)
		return h.full.Handle(ctx, r)
	}
	return h.base.Handle(ctx, h.regroup(r, ids))
}

// regroup returns a record with ids at the top level followed by the open
// groups as nested Group attrs holding their attrs and r's attrs. The slog
// contract makes this equivalent to WithGroup for the group contents,
// including the omission of groups left empty.
func (h *handler) regroup(r slog.Record, ids []slog.Attr) slog.Record {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(ids...)

	last := h.groups[len(h.groups)-1]
	inner := make([]slog.Attr, 0, len(last.attrs)+r.NumAttrs())
	inner = append(inner, last.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		inner = append(inner, a)
		return true
	})
	nested := slog.Attr{Key: last.name, Value: slog.GroupValue(inner...)}
	for i := len(h.groups) - 2; i >= 0; i-- {
		g := h.groups[i]
		as := make([]slog.Attr, 0, len(g.attrs)+1)
		as = append(as, g.attrs...)
		as = append(as, nested)
		nested = slog.Attr{Key: g.name, Value: slog.GroupValue(as...)}
	}
	nr.AddAttrs(nested)
	return nr
}

func (h *handler) idAttrs(dst []slog.Attr, sc trace.SpanContext) []slog.Attr {
	if h.keys.traceID != "" {
		dst = append(dst, slog.String(h.keys.traceID, sc.TraceID().String()))
	}
	if h.keys.spanID != "" {
		dst = append(dst, slog.String(h.keys.spanID, sc.SpanID().String()))
	}
	if h.keys.traceFlags != "" {
		dst = append(dst, slog.String(h.keys.traceFlags, flagsString(sc.TraceFlags())))
	}
	return dst
}

// flagsString avoids an allocation for the two flag values seen in practice.
func flagsString(f trace.TraceFlags) string {
	switch f {
	case 0:
		return "00"
	case trace.FlagsSampled:
		return "01"
	default:
		return f.String()
	}
}

// WithAttrs returns a handler whose records also carry attrs, qualified by
// the groups open at this point, as the wrapped handler's WithAttrs would.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	n := *h
	n.full = h.full.WithAttrs(attrs)
	if len(h.groups) == 0 {
		n.base = n.full
		return &n
	}
	n.groups = append([]group(nil), h.groups...)
	last := &n.groups[len(n.groups)-1]
	last.attrs = append(append([]slog.Attr(nil), last.attrs...), attrs...)
	return &n
}

// WithGroup returns a handler that qualifies later attrs with name, as the
// wrapped handler's WithGroup would; the trace ids stay outside the group.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.full = h.full.WithGroup(name)
	n.groups = append(append(make([]group, 0, len(h.groups)+1), h.groups...), group{name: name})
	return &n
}
