// Package tracecheck proves that a request's trace is unbroken: that it
// entered over HTTP, went through every broker hop and ended in the last
// consumer as ONE trace, shaped as expected. It works in a service's own
// go test, on spans recorded in memory, and in CI, on spans read from a
// trace backend (the tracecheck command does the same without Go code).
//
// # Checking a trace
//
// An [Expectation] lists the spans a request should leave: service, name,
// kind, parent (or, with Indirect, an ancestor with other spans allowed in
// between), attributes, links and error status. [Parse] reads one from a
// compact chain syntax shared with the tracecheck command:
//
//	gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)
//
// [Check] compares spans with it: there must be one trace id (plus one per
// consumer that starts its own trace with a link to the producer, written
// "~>"), one root per trace, no span whose parent is missing (an orphan:
// the sign of a hop that lost the context or a service that did not
// export), and exactly the expected spans unless AllowExtra is set. A
// request that was not sampled must leave nothing: [Nothing]. A mismatch
// is a [MismatchError] that lists each difference, the expected tree with
// every span marked ok, WRONG or MISSING, and the tree that was found.
// [Assert] and [AssertEventually] fail a test with that report:
//
//	func TestProcessKeepsTheTrace(t *testing.T) {
//		rec := tracecheck.NewRecorder()
//		// ... tracer providers of the gateway and the worker built with
//		// sdktrace.WithSpanProcessor(rec); one request sent through them ...
//		tracecheck.AssertEventually(t, rec, traceID, tracecheck.MustParse(
//			"gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)"))
//	}
//
// # Where spans come from
//
// In a test, install a [Recorder] as a span processor on the tracer
// providers of the services under test; [FromSDK] converts spans recorded
// any other way. Outside the process, [FetchTrace] and [FindTraces] read
// Jaeger's HTTP query API, [FetchTempoTrace] reads Grafana Tempo's HTTP
// API, and [ReadOTLPFile] reads what the OpenTelemetry Collector's file
// exporter writes. Each of them, and the Recorder, is a [Source] for
// [Await], which reads a trace until it matches or stops changing, since
// spans reach a backend in batches and consumers end their spans later
// than producers.
//
// Spans read from Jaeger differ from the SDK's only where Jaeger stores
// less: times are kept to the microsecond, link attributes are dropped, and
// the tags Jaeger derives from span fields (span.kind, otel.status_code,
// otel.status_description, error, otel.scope.name, otel.scope.version)
// become Kind, StatusError and StatusMessage again instead of attributes.
// Jaeger keeps a single reference for a span that is both the parent of a
// span and linked from it; such a span is reported as both parent and
// link, as the SDK recorded it. Attribute values read from any backend are
// written as the SDK's attribute.Value.String writes them, so the same
// expectation holds for spans from memory and from a backend.
//
// # Reading traces while developing
//
// [Render] prints spans as an indented waterfall, one line per span with
// its service, name, kind, duration, status and a bar for its place on the
// trace's time line. [TreeExporter] is a span exporter that prints each
// trace that way as soon as the part this process recorded has ended.
package tracecheck
