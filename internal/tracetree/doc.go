// Package tracetree turns the spans of a trace into a tree that a test can
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
// The package creates no spans and has no options; it only reads spans.
package tracetree
