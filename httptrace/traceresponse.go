package httptrace

import (
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"
)

// TraceResponseHeader is the response header that carries the server span's
// context back to the caller, as defined by W3C Trace Context Level 2:
// "00-<trace-id>-<span-id>-<trace-flags>".
const TraceResponseHeader = "traceresponse"

// traceResponseValue formats sc as a version 00 traceresponse value.
func traceResponseValue(sc trace.SpanContext) string {
	// 2 version + 1 + 32 trace id + 1 + 16 span id + 1 + 2 flags.
	var b [55]byte
	tid := sc.TraceID()
	sid := sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
}
