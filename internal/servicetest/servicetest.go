// Package servicetest decides what a test does when a server it needs
// (Redis, RabbitMQ, NATS, PostgreSQL) is not running: skip with a message
// on a developer's machine, fail where ASYNCTRACE_REQUIRE_SERVICES=1 says
// every server must be there, as in CI.
package servicetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a skip into a failure.
const RequireEnv = "ASYNCTRACE_REQUIRE_SERVICES"

// SkipOrFail skips the test with the message, or fails it when
// RequireEnv is 1.
func SkipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%s (%s=1)", msg, RequireEnv)
	}
	tb.Skipf("%s; set %s=1 to fail instead", msg, RequireEnv)
}

// RequireReachable skips or fails the test when nothing listens on addr.
func RequireReachable(tb testing.TB, what, addr string) {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		SkipOrFail(tb, "%s not reachable at %s: %v", what, addr, err)
		return
	}
	_ = conn.Close()
}

// UniqueName is a name no earlier run used: letters, digits and
// underscores only, which every broker accepts as a topic, stream, queue
// or table name.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}
