// Package tracecheck turns the spans of a trace into a tree that a test can
// check and a person can read.
//
// It has one neutral span model ([Span]) filled from two sources: spans
// recorded in-process by the OpenTelemetry SDK ([FromSDK]) and traces stored
// in a Jaeger backend, read over Jaeger's HTTP query API ([FetchTrace],
// [FindTraces]). [Render] prints spans as an indented waterfall, one line per
// span with its service, name, kind, duration, status and a bar for its place
// on the trace's time line. [Check] compares spans against an [Expectation],
// the tree the caller expects, and explains any difference in a
// [MismatchError].
//
// Spans read from Jaeger differ from the SDK's only where Jaeger stores less:
// times are kept to the microsecond, link attributes are dropped, and the tags
// Jaeger derives from span fields (span.kind, otel.status_code,
// otel.status_description, error, otel.scope.name, otel.scope.version) become
// Kind, StatusError and StatusMessage again instead of attributes. Jaeger keeps
// a single reference for a span that is both the parent of a span and linked
// from it; such a span is reported as both parent and link, as the SDK
// recorded it.
//
// The package creates no spans and has no options; it only reads spans.
package tracecheck
