package pubsubtrace

import (
	"fmt"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/config"
)

// DefaultMaxPushBodyBytes bounds the body of a push request unless
// [WithMaxPushBodyBytes] says otherwise: a 10 MB message (Pub/Sub's limit),
// base64-encoded, plus room for its attributes and the envelope.
const DefaultMaxPushBodyBytes = 16 << 20

// settings are the options of this package's own.
type settings struct {
	googleClientKeys bool
	maxPushBodyBytes int64
}

func option(name string, set func(*settings)) asynctrace.Option {
	return config.New(config.Option{Name: "pubsubtrace." + name, Adapter: "pubsubtrace", Local: set}).(asynctrace.Option)
}

// WithGoogleClientKeys makes a [Publisher] also write the trace context
// under the keys the Pub/Sub client's built-in tracing reads
// (googclient_traceparent, googclient_tracestate), so that subscribers that
// rely on the built-in tracing alone continue the trace. It costs up to two
// attributes per message.
func WithGoogleClientKeys() asynctrace.Option {
	return option("WithGoogleClientKeys", func(s *settings) { s.googleClientKeys = true })
}

// WithMaxPushBodyBytes bounds the body of a push request that
// [NewPushHandler]'s handler reads (default [DefaultMaxPushBodyBytes]); a
// longer body gets 413. It panics if n is less than 1.
func WithMaxPushBodyBytes(n int64) asynctrace.Option {
	if n < 1 {
		panic(fmt.Sprintf("pubsubtrace.WithMaxPushBodyBytes: n must be at least 1, got %d", n))
	}
	return option("WithMaxPushBodyBytes", func(s *settings) { s.maxPushBodyBytes = n })
}
