package httptrace

import (
	"encoding/hex"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
)

// TraceResponseHeader is the response header that carries the server span's
// context back to the caller, as defined by W3C Trace Context Level 2:
// "00-<trace-id>-<span-id>-<trace-flags>".
const TraceResponseHeader = "traceresponse"

// traceResponseLen is 2 version + 1 + 32 trace id + 1 + 16 span id + 1 +
// 2 flags.
const traceResponseLen = 55

// traceResponseHeader is a header's value list and the bytes of its one
// value, allocated together: every traced request pays one allocation for
// the header instead of two.
type traceResponseHeader struct {
	values [1]string
	buf    [traceResponseLen]byte
}

// traceResponseValues returns the header value list for sc.
func traceResponseValues(sc trace.SpanContext) []string {
	h := new(traceResponseHeader)
	formatTraceResponse(h.buf[:], sc)
	// buf is never written again, so the string may share its memory.
	h.values[0] = unsafe.String(&h.buf[0], traceResponseLen)
	return h.values[:]
}

// formatTraceResponse writes sc into b as a version 00 traceresponse value.
func formatTraceResponse(b []byte, sc trace.SpanContext) {
	tid := sc.TraceID()
	sid := sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
}
