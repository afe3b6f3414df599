// Package otlptest runs an in-process OTLP/HTTP receiver on the loopback
// interface so that tests and benchmarks can point the real OpenTelemetry
// exporters at it and inspect what arrived on the wire.
//
// The receiver accepts POST requests on /v1/traces, /v1/metrics and /v1/logs
// with protobuf (application/x-protobuf) or OTLP JSON (application/json)
// bodies, optionally gzip-compressed, decodes them with the generated OTLP
// protocol types and keeps the decoded spans, metrics and log records in
// memory, together with a record of every request (path, headers).
//
// With [WithGRPC] the same server also accepts OTLP/gRPC on a second port
// ([Server.GRPCURL]) and stores what arrives there alongside.
//
// A typical test:
//
//	srv := otlptest.NewServer()
//	t.Cleanup(srv.Close)
//	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL())
//	// ... start the SDK, create spans, flush ...
//	spans, err := srv.WaitSpans(ctx, 2)
//
// Close the server before a goroutine-leak check: the OTLP/HTTP exporters
// keep idle keep-alive connections (and their goroutines) after Shutdown,
// and Close ends them from the server side.
//
// Failure modes are available for exercising shutdown and export paths:
// [Hang] accepts each request and never answers it, [Reject] answers with a
// permanent HTTP 400 error, and [UnusedAddr] returns a loopback address on
// which nothing listens, so that connections are refused.
package otlptest
