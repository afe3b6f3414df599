package otlptest

import (
	"net"
	"testing"
)

// UnusedAddr returns a loopback host:port on which nothing listens, so that
// connecting to it is refused. The port was free a moment ago; another
// process could claim it meanwhile, which is unlikely enough for tests.
func UnusedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("otlptest: reserve a loopback port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		tb.Fatalf("otlptest: release loopback port: %v", err)
	}
	return addr
}

// UnusedURL returns "http://" + [UnusedAddr], ready for
// OTEL_EXPORTER_OTLP_ENDPOINT.
func UnusedURL(tb testing.TB) string {
	tb.Helper()
	return "http://" + UnusedAddr(tb)
}
