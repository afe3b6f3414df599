// Package slogtrace puts trace ids into log/slog records so that log lines
// and spans can be matched in Jaeger, Tempo, Grafana or any log store.
//
// WrapHandler wraps any slog.Handler (slog.JSONHandler, slog.TextHandler or a
// third-party one). For each record logged with a context that holds a
// valid span context (slog.InfoContext(ctx, ...), Logger.Log(ctx, ...)) it
// adds three string attributes:
//
//	trace_id     32 lowercase hex digits
//	span_id      16 lowercase hex digits
//	trace_flags  2 hex digits, "01" when the trace is sampled
//
// Records logged without a context, with a nil context, or outside a span
// (an invalid span context) are passed on untouched. The span is only read,
// never created or modified, and no span events are recorded.
//
// The ids are always top-level attributes, also under Logger.WithGroup: a
// log pipeline looks for "trace_id", not "request.trace_id". Within an open
// group the handler rebuilds the group as nested Group attributes around the
// record's attributes, which the slog.Handler contract makes equivalent to
// the wrapped handler's own WithGroup; records without ids go through the
// wrapped handler's WithGroup chain unchanged. Enabled is the wrapped
// handler's.
//
// Options rename the keys (WithTraceIDKey, WithSpanIDKey,
// WithTraceFlagsKey); an empty key leaves that attribute out.
//
// To send the records themselves to an OpenTelemetry log pipeline, where
// trace ids are fields of the log record rather than attributes, use
// go.opentelemetry.io/contrib/bridges/otelslog instead of or next to this
// handler.
package slogtrace
