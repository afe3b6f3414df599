// Package frameworks tests the recipes that start a trace in the HTTP
// frameworks services run: Echo, Gin, Fiber, chi and net/http. Each
// framework serves the same routes over a real listener; the tests check
// the server span of every outcome (success, bind error, unmatched route,
// returned error, recovered panic), the untraced health path, the
// traceresponse header, the continuation of an incoming traceparent and a
// Pulsar send inside the handler that continues the same trace.
//
// The recipes are the ones the httptrace package documentation and the
// examples module show.
package frameworks
